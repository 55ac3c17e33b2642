import { createHash, timingSafeEqual } from 'node:crypto';
import { DcimError } from '../../contract/errors.js';

/**
 * Bearer-token check for the HTTP API (RFC 6750 §2.1). Both tokens are hashed to SHA-256 first,
 * so the comparison takes the same time whatever the presented token's length or content
 * (timingSafeEqual needs equal lengths; comparing the raw strings would leak both).
 */
export const MIN_TOKEN_LENGTH = 16;

export type TokenVerdict = 'ok' | 'missing' | 'invalid';

/** RFC 6750 b64token. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

export class BearerToken {
  private readonly expected: Buffer;

  /** `what` names the setting in the error (e.g. `http.token`). */
  constructor(token: string, what = 'http.token') {
    if (token.length < MIN_TOKEN_LENGTH) {
      throw new DcimError('DCIM_E_CONFIG_INVALID', `${what}: the API token must be at least ${MIN_TOKEN_LENGTH} characters (e.g. openssl rand -hex 32)`);
    }
    if (!B64TOKEN.test(token)) {
      throw new DcimError('DCIM_E_CONFIG_INVALID', `${what}: the API token may contain only letters, digits and - . _ ~ + / (then = padding), as a bearer token must (RFC 6750)`);
    }
    this.expected = digest(token);
  }

  /** Checks an `Authorization` header value. */
  check(header: string | undefined): TokenVerdict {
    if (header === undefined) return 'missing';
    const m = /^Bearer[ ]+([A-Za-z0-9\-._~+/]+=*)\s*$/i.exec(header);
    if (!m) return 'invalid';
    return timingSafeEqual(digest(m[1]!), this.expected) ? 'ok' : 'invalid';
  }
}
