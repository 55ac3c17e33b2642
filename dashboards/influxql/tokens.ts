/**
 * InfluxQL tokens, for the subset dashboards use (SELECT with subqueries, SHOW TAG VALUES).
 * Quoted identifiers, string literals and regexes are unescaped; keywords stay words and are
 * told apart by the parser, as InfluxQL itself does.
 */
export type TokenKind = 'ident' | 'word' | 'string' | 'regex' | 'number' | 'duration' | 'op' | 'eof';

export interface Token {
  kind: TokenKind;
  text: string;
  /** Offset in the query, for error messages. */
  pos: number;
}

export class InfluxQlSyntaxError extends Error {
  constructor(
    message: string,
    readonly pos: number,
  ) {
    super(`${message} at offset ${pos}`);
    this.name = 'InfluxQlSyntaxError';
  }
}

const OPERATORS = ['=~', '!~', '!=', '<>', '<=', '>=', '::', '=', '<', '>', '+', '-', '*', '/', '%', '(', ')', ',', ';', '.'];
const DURATION_UNITS = /^(ns|u|µ|ms|s|m|h|d|w)(?![A-Za-z0-9_])/;

/** A regex can only follow these (InfluxQL has no other place for one). */
function regexMayFollow(prev: Token | undefined): boolean {
  if (!prev) return false;
  if (prev.kind === 'op') return prev.text === '=~' || prev.text === '!~';
  return prev.kind === 'word' && prev.text.toUpperCase() === 'FROM';
}

function readQuoted(q: string, start: number, quote: string): { text: string; end: number } {
  let text = '';
  for (let i = start + 1; i < q.length; i++) {
    const c = q[i]!;
    if (c === '\\' && i + 1 < q.length) {
      text += q[++i];
      continue;
    }
    if (c === quote) return { text, end: i + 1 };
    text += c;
  }
  throw new InfluxQlSyntaxError(`unterminated ${quote === "'" ? 'string' : quote === '"' ? 'identifier' : 'regex'}`, start);
}

export function tokenize(q: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < q.length) {
    const c = q[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const prev = out.at(-1);
    if (c === '"' || c === "'") {
      const { text, end } = readQuoted(q, i, c);
      out.push({ kind: c === '"' ? 'ident' : 'string', text, pos: i });
      i = end;
      continue;
    }
    if (c === '/' && regexMayFollow(prev)) {
      // A regex keeps its escapes: `\/` becomes `/`, every other escape is the pattern's own.
      let text = '';
      let j = i + 1;
      for (; j < q.length && q[j] !== '/'; j++) {
        if (q[j] === '\\' && q[j + 1] === '/') j++;
        else if (q[j] === '\\' && j + 1 < q.length) text += q[j++];
        text += q[j];
      }
      if (j >= q.length) throw new InfluxQlSyntaxError('unterminated regex', i);
      out.push({ kind: 'regex', text, pos: i });
      i = j + 1;
      continue;
    }
    const num = /^\d+(\.\d+)?([eE][+-]?\d+)?/.exec(q.slice(i));
    if (num) {
      const unit = DURATION_UNITS.exec(q.slice(i + num[0].length));
      if (unit && num[1] === undefined && num[2] === undefined) {
        out.push({ kind: 'duration', text: num[0] + unit[1], pos: i });
        i += num[0].length + unit[1]!.length;
      } else {
        out.push({ kind: 'number', text: num[0], pos: i });
        i += num[0].length;
      }
      continue;
    }
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(q.slice(i));
    if (word) {
      out.push({ kind: 'word', text: word[0], pos: i });
      i += word[0].length;
      continue;
    }
    const op = OPERATORS.find((o) => q.startsWith(o, i));
    if (op) {
      out.push({ kind: 'op', text: op, pos: i });
      i += op.length;
      continue;
    }
    throw new InfluxQlSyntaxError(`unexpected character ${JSON.stringify(c)}`, i);
  }
  out.push({ kind: 'eof', text: '', pos: q.length });
  return out;
}
