import { InfluxQlSyntaxError, tokenize, type Token } from './tokens.js';

/**
 * A small InfluxQL parser for what dashboards send: SELECT (fields, functions, arithmetic, AS,
 * FROM measurements or subqueries, WHERE, GROUP BY time and tags, fill, ORDER BY time, LIMIT,
 * SLIMIT, tz) and SHOW TAG VALUES. It parses enough to know every measurement, field and tag a
 * query names, so a dashboard can be checked against the storage catalogue without a database.
 */

export type Expr =
  | { t: 'ident'; name: string; cast?: string }
  | { t: 'time' }
  | { t: 'call'; fn: string; args: Expr[] }
  | { t: 'string'; value: string }
  | { t: 'number'; value: number }
  | { t: 'bool'; value: boolean }
  | { t: 'duration'; value: string }
  | { t: 'regex'; value: string }
  | { t: 'wildcard' }
  | { t: 'binary'; op: string; left: Expr; right: Expr };

export type Source = { t: 'measurement'; name: string } | { t: 'regex'; value: string } | { t: 'subquery'; query: SelectStatement };

export type Dimension = { t: 'time'; interval: Expr } | { t: 'tag'; name: string } | { t: 'all' } | { t: 'regex'; value: string };

export interface Column {
  expr: Expr;
  alias?: string;
}

export interface SelectStatement {
  kind: 'select';
  columns: Column[];
  sources: Source[];
  where?: Expr;
  groupBy: Dimension[];
  fill?: string;
  order?: 'asc' | 'desc';
  limit?: number;
  slimit?: number;
}

export interface ShowTagValuesStatement {
  kind: 'show_tag_values';
  from?: string;
  /** `WITH KEY = k` or `IN (a, b)`: the names; `=~ /re/`: a regex. */
  keys: string[] | { regex: string };
  where?: Expr;
}

export type Statement = SelectStatement | ShowTagValuesStatement;

class Parser {
  private i = 0;
  constructor(private readonly toks: Token[]) {}

  private peek(offset = 0): Token {
    return this.toks[Math.min(this.i + offset, this.toks.length - 1)]!;
  }
  private next(): Token {
    const t = this.peek();
    if (t.kind !== 'eof') this.i++;
    return t;
  }
  private isWord(w: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t.kind === 'word' && t.text.toUpperCase() === w;
  }
  private isOp(op: string): boolean {
    const t = this.peek();
    return t.kind === 'op' && t.text === op;
  }
  private fail(what: string): never {
    const t = this.peek();
    throw new InfluxQlSyntaxError(`expected ${what}, found ${t.kind === 'eof' ? 'the end' : JSON.stringify(t.text)}`, t.pos);
  }
  private word(w: string): void {
    if (!this.isWord(w)) this.fail(w);
    this.next();
  }
  private op(op: string): void {
    if (!this.isOp(op)) this.fail(`"${op}"`);
    this.next();
  }
  /** A quoted identifier, or a bare one that is not a keyword. */
  private identifier(): string {
    const t = this.peek();
    if (t.kind === 'ident' || (t.kind === 'word' && !KEYWORDS.has(t.text.toUpperCase()))) return this.next().text;
    return this.fail('an identifier');
  }

  statements(): Statement[] {
    const out: Statement[] = [this.statement()];
    while (this.isOp(';')) {
      this.next();
      if (this.peek().kind === 'eof') break;
      out.push(this.statement());
    }
    if (this.peek().kind !== 'eof') this.fail('the end of the query');
    return out;
  }

  private statement(): Statement {
    if (this.isWord('SELECT')) return this.select();
    if (this.isWord('SHOW') && this.isWord('TAG', 1) && this.isWord('VALUES', 2)) return this.showTagValues();
    return this.fail('SELECT or SHOW TAG VALUES');
  }

  private select(): SelectStatement {
    this.word('SELECT');
    const columns: Column[] = [];
    do {
      if (columns.length > 0) this.op(',');
      const expr = this.expr();
      if (this.isWord('AS')) {
        this.next();
        columns.push({ expr, alias: this.identifier() });
      } else columns.push({ expr });
    } while (this.isOp(','));
    this.word('FROM');
    const sources: Source[] = [];
    do {
      if (sources.length > 0) this.op(',');
      sources.push(this.source());
    } while (this.isOp(','));
    const s: SelectStatement = { kind: 'select', columns, sources, groupBy: [] };
    if (this.isWord('WHERE')) {
      this.next();
      s.where = this.expr();
    }
    if (this.isWord('GROUP')) {
      this.next();
      this.word('BY');
      do {
        if (s.groupBy.length > 0) this.op(',');
        s.groupBy.push(this.dimension());
      } while (this.isOp(','));
    }
    if (this.isWord('FILL')) {
      this.next();
      this.op('(');
      s.fill = this.next().text;
      this.op(')');
    }
    if (this.isWord('ORDER')) {
      this.next();
      this.word('BY');
      this.word('TIME');
      if (this.isWord('DESC') || this.isWord('ASC')) s.order = this.next().text.toLowerCase() as 'asc' | 'desc';
    }
    for (;;) {
      if (this.isWord('LIMIT')) {
        this.next();
        s.limit = this.integer();
      } else if (this.isWord('SLIMIT')) {
        this.next();
        s.slimit = this.integer();
      } else if (this.isWord('OFFSET') || this.isWord('SOFFSET')) {
        this.next();
        this.integer();
      } else if (this.isWord('TZ')) {
        this.next();
        this.op('(');
        if (this.next().kind !== 'string') this.fail('a time zone string');
        this.op(')');
      } else break;
    }
    return s;
  }

  private integer(): number {
    const t = this.next();
    if (t.kind !== 'number' || !/^\d+$/.test(t.text)) throw new InfluxQlSyntaxError('expected an integer', t.pos);
    return Number(t.text);
  }

  private source(): Source {
    if (this.isOp('(')) {
      this.next();
      const query = this.select();
      this.op(')');
      return { t: 'subquery', query };
    }
    if (this.peek().kind === 'regex') return { t: 'regex', value: this.next().text };
    const name = this.identifier();
    // "db"."rp"."measurement": the measurement is the last part.
    let last = name;
    while (this.isOp('.')) {
      this.next();
      last = this.identifier();
    }
    return { t: 'measurement', name: last };
  }

  private dimension(): Dimension {
    if (this.isWord('TIME') && this.peek(1).kind === 'op' && this.peek(1).text === '(') {
      this.next();
      this.op('(');
      const interval = this.primary();
      if (this.isOp(',')) {
        this.next();
        this.primary();
      }
      this.op(')');
      return { t: 'time', interval };
    }
    if (this.isOp('*')) {
      this.next();
      return { t: 'all' };
    }
    if (this.peek().kind === 'regex') return { t: 'regex', value: this.next().text };
    return { t: 'tag', name: this.identifier() };
  }

  private showTagValues(): ShowTagValuesStatement {
    this.word('SHOW');
    this.word('TAG');
    this.word('VALUES');
    const s: ShowTagValuesStatement = { kind: 'show_tag_values', keys: [] };
    if (this.isWord('FROM')) {
      this.next();
      const src = this.source();
      if (src.t !== 'measurement') this.fail('a measurement name');
      s.from = src.name;
    }
    this.word('WITH');
    this.word('KEY');
    if (this.isOp('=')) {
      this.next();
      s.keys = [this.identifier()];
    } else if (this.isOp('=~')) {
      this.next();
      const t = this.next();
      if (t.kind !== 'regex') throw new InfluxQlSyntaxError('expected a regex', t.pos);
      s.keys = { regex: t.text };
    } else if (this.isWord('IN')) {
      this.next();
      this.op('(');
      const keys = [this.identifier()];
      while (this.isOp(',')) {
        this.next();
        keys.push(this.identifier());
      }
      this.op(')');
      s.keys = keys;
    } else this.fail('=, =~ or IN after WITH KEY');
    if (this.isWord('WHERE')) {
      this.next();
      s.where = this.expr();
    }
    while (this.isWord('LIMIT') || this.isWord('OFFSET')) {
      this.next();
      this.integer();
    }
    return s;
  }

  // Precedence, lowest first: OR, AND, comparison, + -, * / %.
  expr(): Expr {
    let left = this.and();
    while (this.isWord('OR')) {
      this.next();
      left = { t: 'binary', op: 'OR', left, right: this.and() };
    }
    return left;
  }
  private and(): Expr {
    let left = this.comparison();
    while (this.isWord('AND')) {
      this.next();
      left = { t: 'binary', op: 'AND', left, right: this.comparison() };
    }
    return left;
  }
  private comparison(): Expr {
    const left = this.additive();
    const t = this.peek();
    if (t.kind === 'op' && ['=', '!=', '<>', '<', '<=', '>', '>=', '=~', '!~'].includes(t.text)) {
      this.next();
      return { t: 'binary', op: t.text === '<>' ? '!=' : t.text, left, right: this.additive() };
    }
    return left;
  }
  private additive(): Expr {
    let left = this.multiplicative();
    while (this.isOp('+') || this.isOp('-')) {
      const op = this.next().text;
      left = { t: 'binary', op, left, right: this.multiplicative() };
    }
    return left;
  }
  private multiplicative(): Expr {
    let left = this.primary();
    while (this.isOp('*') || this.isOp('/') || this.isOp('%')) {
      const op = this.next().text;
      left = { t: 'binary', op, left, right: this.primary() };
    }
    return left;
  }
  private primary(): Expr {
    const t = this.peek();
    if (t.kind === 'op' && t.text === '(') {
      this.next();
      const e = this.expr();
      this.op(')');
      return e;
    }
    if (t.kind === 'op' && t.text === '*') {
      this.next();
      return { t: 'wildcard' };
    }
    if (t.kind === 'op' && t.text === '-') {
      this.next();
      const inner = this.primary();
      if (inner.t === 'number') return { t: 'number', value: -inner.value };
      return { t: 'binary', op: '-', left: { t: 'number', value: 0 }, right: inner };
    }
    if (t.kind === 'string') return { t: 'string', value: this.next().text };
    if (t.kind === 'regex') return { t: 'regex', value: this.next().text };
    if (t.kind === 'number') return { t: 'number', value: Number(this.next().text) };
    if (t.kind === 'duration') return { t: 'duration', value: this.next().text };
    if (t.kind === 'word') {
      const upper = t.text.toUpperCase();
      if (this.peek(1).kind === 'op' && this.peek(1).text === '(') {
        this.next();
        this.next();
        const args: Expr[] = [];
        while (!this.isOp(')')) {
          if (args.length > 0) this.op(',');
          args.push(this.expr());
        }
        this.op(')');
        return { t: 'call', fn: t.text.toLowerCase(), args };
      }
      if (upper === 'TIME') {
        this.next();
        return { t: 'time' };
      }
      if (upper === 'TRUE' || upper === 'FALSE') {
        this.next();
        return { t: 'bool', value: upper === 'TRUE' };
      }
    }
    const name = this.identifier();
    if (this.isOp('::')) {
      this.next();
      return { t: 'ident', name, cast: this.next().text.toLowerCase() };
    }
    return { t: 'ident', name };
  }
}

const KEYWORDS = new Set(
  'ALL AND AS ASC BY DESC FILL FROM GROUP IN KEY LIMIT OFFSET OR ORDER SELECT SHOW SLIMIT SOFFSET TAG TIME TZ VALUES WHERE WITH'.split(' '),
);

export function parseInfluxQl(query: string): Statement[] {
  return new Parser(tokenize(query)).statements();
}
