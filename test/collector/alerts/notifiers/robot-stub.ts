import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clock } from '../../../../contract/clock.js';

/**
 * WeCom and DingTalk group robots on 127.0.0.1, as strict as the vendors document them: the
 * credential in the query, the JSON shape, the content byte limits (UTF-8), 20 messages a minute
 * per robot (by the test's clock), and DingTalk's signature, recomputed here from the secret —
 * independently of the code under test — so a wrong HMAC input, key or encoding is refused with
 * errcode 310000. Every reply is HTTP 200 with `{errcode, errmsg}`, as the vendors answer.
 */
export interface Accepted {
  vendor: 'wecom' | 'dingtalk';
  at_ms: number;
  body: Record<string, unknown>;
  /** The markdown or text content. */
  content: string;
  rawQuery: string;
}

export interface Refused {
  vendor: 'wecom' | 'dingtalk';
  errcode: number;
  errmsg: string;
}

export interface RobotStubOptions {
  clock: Clock;
  wecom_key: string;
  dingtalk_token: string;
  /** When set, DingTalk requests must be signed with it. */
  dingtalk_secret?: string;
  per_minute?: number;
}

type Reply = { errcode: number; errmsg: string };

export async function startRobotStub(opts: RobotStubOptions) {
  const accepted: Accepted[] = [];
  const refused: Refused[] = [];
  /** Replies to give next instead of judging (errcode scripting), per vendor. */
  const script: Record<'wecom' | 'dingtalk', Reply[]> = { wecom: [], dingtalk: [] };
  const recent: Record<'wecom' | 'dingtalk', number[]> = { wecom: [], dingtalk: [] };
  const limit = opts.per_minute ?? 20;

  const tooFast = (vendor: 'wecom' | 'dingtalk'): boolean => {
    const now = opts.clock.now();
    recent[vendor] = recent[vendor].filter((t) => t > now - 60_000);
    return recent[vendor].length >= limit;
  };

  const judgeWecom = (query: URLSearchParams, body: Record<string, unknown>): Reply | string => {
    if (query.get('key') !== opts.wecom_key) return { errcode: 93000, errmsg: 'invalid webhook url' };
    if (tooFast('wecom')) return { errcode: 45009, errmsg: 'api freq out of limit' };
    const type = body.msgtype;
    const part = (type === 'markdown' || type === 'text' ? body[type] : undefined) as Record<string, unknown> | undefined;
    if (!part) return { errcode: 40008, errmsg: 'invalid message type' };
    const content = part.content;
    if (typeof content !== 'string' || content === '') return { errcode: 44004, errmsg: 'empty content' };
    const max = type === 'markdown' ? 4096 : 2048;
    if (Buffer.byteLength(content, 'utf8') > max) return { errcode: 40058, errmsg: `${String(type)}.content exceed max length ${max}` };
    for (const k of ['mentioned_list', 'mentioned_mobile_list'])
      if (part[k] !== undefined && !(Array.isArray(part[k]) && (part[k] as unknown[]).every((x) => typeof x === 'string'))) return { errcode: 40058, errmsg: `invalid ${k}` };
    return content;
  };

  const judgeDingtalk = (query: URLSearchParams, body: Record<string, unknown>): Reply | string => {
    if (query.get('access_token') !== opts.dingtalk_token) return { errcode: 300001, errmsg: 'token is not exist' };
    if (opts.dingtalk_secret !== undefined) {
      const ts = query.get('timestamp');
      const sign = query.get('sign');
      if (ts === null || sign === null || !/^\d{13}$/.test(ts)) return { errcode: 310000, errmsg: 'sign not match: timestamp or sign missing' };
      if (Math.abs(opts.clock.now() - Number(ts)) > 3_600_000) return { errcode: 310000, errmsg: 'sign not match: timestamp more than 1 hour off' };
      const want = Buffer.from(createHmac('sha256', opts.dingtalk_secret).update(`${ts}\n${opts.dingtalk_secret}`).digest('base64'));
      const got = Buffer.from(sign);
      if (got.length !== want.length || !timingSafeEqual(got, want)) return { errcode: 310000, errmsg: 'sign not match' };
    }
    if (tooFast('dingtalk')) return { errcode: 130101, errmsg: 'send too fast, exceed 20 times per minute' };
    if (body.msgtype !== 'markdown') return { errcode: 40035, errmsg: 'unsupported msgtype' };
    const md = body.markdown as Record<string, unknown> | undefined;
    if (!md || typeof md.title !== 'string' || md.title === '' || typeof md.text !== 'string' || md.text === '') return { errcode: 40035, errmsg: 'markdown.title and markdown.text required' };
    const at = body.at as Record<string, unknown> | undefined;
    if (at !== undefined) {
      if (!Array.isArray(at.atMobiles) || typeof at.isAtAll !== 'boolean') return { errcode: 40035, errmsg: 'at: atMobiles[] and isAtAll' };
      // DingTalk highlights an @ only when the text names it.
      for (const m of at.atMobiles as string[]) if (!md.text.includes(`@${m}`)) return { errcode: 40035, errmsg: `@${m} not in text` };
    }
    return md.text;
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const vendor = url.pathname === '/cgi-bin/webhook/send' ? 'wecom' : url.pathname === '/robot/send' ? 'dingtalk' : undefined;
      const send = (r: Reply) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(r));
      if (!vendor || req.method !== 'POST') return void res.writeHead(404).end('not found');
      let body: Record<string, unknown>;
      try {
        if (!String(req.headers['content-type']).startsWith('application/json')) throw new Error('content-type');
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      } catch {
        refused.push({ vendor, errcode: 40016, errmsg: 'invalid json' });
        return send({ errcode: 40016, errmsg: 'invalid json' });
      }
      const scripted = script[vendor].shift();
      const verdict = scripted ?? (vendor === 'wecom' ? judgeWecom(url.searchParams, body) : judgeDingtalk(url.searchParams, body));
      if (typeof verdict !== 'string') {
        refused.push({ vendor, ...verdict });
        return send(verdict);
      }
      recent[vendor].push(opts.clock.now());
      accepted.push({ vendor, at_ms: opts.clock.now(), body, content: verdict, rawQuery: url.search });
      send({ errcode: 0, errmsg: 'ok' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    base_url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    accepted,
    refused,
    script,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
export type RobotStub = Awaited<ReturnType<typeof startRobotStub>>;
