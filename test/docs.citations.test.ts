import { readFileSync, readdirSync } from 'node:fs';
import { basename, dirname, join, relative, sep } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './support/repo-path.js';

/**
 * A source comment may cite only what a clone of the repository holds: files that exist (and, for
 * a Markdown file, the section it names), never a machine path or a ticket. The rules, precise
 * enough to need no allow-list:
 *
 * - A citation is a path-like token ending in .ts, .md, .py, .sh, .yaml, .yml or .json, not glued
 *   to a placeholder or a longer token (`<id>.yaml`, `*.test.ts`, a URL's tail are not citations).
 *   `.js` is left out: in a comment it names a library (mqtt.js), and code imports are not comments.
 * - A folder from a top-level folder of the repository, written with its trailing slash
 *   (`collector/kpi/registry/`), must exist.
 * - With a folder: resolved against the repository root, the citing file's folder or one of its
 *   parents (`support/services.ts` from a test under test/agent/). A `.yaml`/`.yml`/`.json` path is
 *   a citation only when it starts at a top-level folder of the repository or with ./ or ../;
 *   otherwise it is a file the program reads or writes (`state/alerts.json`). A path after a
 *   possessive (`Zigbee2MQTT's lib/mqtt.ts`) is another project's file.
 * - A bare name (`site-kpis.ts`, `README.md`) must exist somewhere in the repository; a bare
 *   `.yaml`/`.json` name is a config or data file a user writes (`site.yaml`), not a citation.
 * - `<file>.md §N` needs a heading numbered N in that file; `<file>.md "Title"` a heading with
 *   that text.
 * - Machine paths: no absolute path under the roots work, home, Users, root, mnt or tmp (an
 *   example config uses a relative path or a system one such as /var/lib/…).
 * - Tickets: no tracker key (ISSUE, TICKET, JIRA, BUG, TASK or DCIM, a dash and a number), no
 *   "issue", "ticket" or "PR" followed by a number, no number after a bare hash sign. An upstream
 *   bug is cited by its URL, which a reader can open.
 */

const ROOT = REPO_ROOT;
const SKIP_DIRS = new Set(['node_modules', '.git', 'dist', 'coverage']);

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (e.isDirectory()) return SKIP_DIRS.has(e.name) || e.name.startsWith('.') ? [] : walk(join(dir, e.name));
    return [join(dir, e.name)];
  });
}

export interface RepoIndex {
  /** Repository-relative paths with forward slashes. */
  files: ReadonlySet<string>;
  dirs: ReadonlySet<string>;
  names: ReadonlySet<string>;
  topLevel: ReadonlySet<string>;
  read: (path: string) => string;
}

function repoIndex(): RepoIndex {
  const files = walk(ROOT).map((f) => relative(ROOT, f).split(sep).join('/'));
  const dirs = new Set<string>();
  for (const f of files) for (let d = dirname(f); d !== '.'; d = dirname(d)) dirs.add(d);
  return {
    files: new Set(files),
    dirs,
    names: new Set(files.map((f) => basename(f))),
    topLevel: new Set(readdirSync(ROOT).filter((n) => !n.startsWith('.') && !SKIP_DIRS.has(n))),
    read: (p) => readFileSync(join(ROOT, p), 'utf8'),
  };
}

/** Token kinds after which a slash divides; anywhere else it starts a regular expression. */
const ENDS_EXPRESSION = new Set<ts.SyntaxKind>([
  ts.SyntaxKind.Identifier,
  ts.SyntaxKind.PrivateIdentifier,
  ts.SyntaxKind.NumericLiteral,
  ts.SyntaxKind.BigIntLiteral,
  ts.SyntaxKind.StringLiteral,
  ts.SyntaxKind.RegularExpressionLiteral,
  ts.SyntaxKind.NoSubstitutionTemplateLiteral,
  ts.SyntaxKind.TemplateTail,
  ts.SyntaxKind.CloseParenToken,
  ts.SyntaxKind.CloseBracketToken,
  ts.SyntaxKind.CloseBraceToken,
  ts.SyntaxKind.PlusPlusToken,
  ts.SyntaxKind.MinusMinusToken,
  ts.SyntaxKind.ThisKeyword,
  ts.SyntaxKind.SuperKeyword,
  ts.SyntaxKind.TrueKeyword,
  ts.SyntaxKind.FalseKeyword,
  ts.SyntaxKind.NullKeyword,
]);
const TRIVIA = new Set<ts.SyntaxKind>([ts.SyntaxKind.WhitespaceTrivia, ts.SyntaxKind.NewLineTrivia, ts.SyntaxKind.ShebangTrivia, ts.SyntaxKind.ConflictMarkerTrivia]);

/**
 * Every comment of a TypeScript file, with its 1-based line. Strings, templates and regular
 * expressions are not comments. TypeScript's scanner, not its parser: a parse of every file
 * takes several times longer, and the scanner only needs told where a template resumes after
 * `}` and whether a slash divides (a contextual keyword such as `type` may be a variable).
 */
export function commentsOf(text: string): { line: number; text: string }[] {
  const scanner = ts.createScanner(ts.ScriptTarget.Latest, false, ts.LanguageVariant.Standard, text);
  let line = 1;
  let counted = 0;
  const found: { line: number; text: string }[] = [];
  /** Open braces inside each template substitution we are in. */
  const braces: number[] = [];
  let prev = ts.SyntaxKind.Unknown;
  for (let kind = scanner.scan(); kind !== ts.SyntaxKind.EndOfFileToken; kind = scanner.scan()) {
    if (kind === ts.SyntaxKind.SingleLineCommentTrivia || kind === ts.SyntaxKind.MultiLineCommentTrivia) {
      const start = scanner.getTokenStart();
      for (; counted < start; counted++) if (text.charCodeAt(counted) === 10) line++;
      found.push({ line, text: scanner.getTokenText() });
      continue;
    }
    if (TRIVIA.has(kind)) continue;
    const depth = braces.length - 1;
    if (kind === ts.SyntaxKind.TemplateHead) braces.push(0);
    else if (kind === ts.SyntaxKind.OpenBraceToken && depth >= 0) braces[depth]!++;
    else if (kind === ts.SyntaxKind.CloseBraceToken && depth >= 0) {
      if (braces[depth] === 0) {
        kind = scanner.reScanTemplateToken(false);
        if (kind === ts.SyntaxKind.TemplateTail) braces.pop();
      } else braces[depth]!--;
    } else if ((kind === ts.SyntaxKind.SlashToken || kind === ts.SyntaxKind.SlashEqualsToken) && !ENDS_EXPRESSION.has(prev) && !(prev > ts.SyntaxKind.LastFutureReservedWord && prev <= ts.SyntaxKind.LastKeyword)) {
      kind = scanner.reScanSlashToken();
    }
    prev = kind;
  }
  return found;
}

const URL_RE = /\b[a-z][a-z0-9+.-]*:\/\/[^\s)>`'"]+/gi;
const CITATION_RE = /(?<![\w./<>…*{}@~$%-])((?:\.{1,2}\/)?(?:[\w.-]+\/)*[\w-][\w.-]*\.(ts|md|py|sh|ya?ml|json))(?![\w/-])/g;
/** A folder from the root, written with its trailing slash (`collector/kpi/registry/`). */
const FOLDER_RE = /(?<![\w./<>…*{}@~$%-])((?:[\w-]+\/)+)(?![\w.*<{$-])/g;
const SOURCE_EXT = new Set(['ts', 'md', 'py', 'sh']);
const MACHINE_PATH_RE = /(?<![\w.:/-])(?:\/(?:work|home|Users|root|mnt|tmp)\/|[A-Za-z]:\\Users\\)/;
const TICKET_RES: RegExp[] = [
  /\b(?:ISSUE|TICKET|JIRA|BUG|TASK|DCIM)-\d+\b/i,
  /\b(?:issues?|tickets?)\s*[#:]?\s*\d+\b/i,
  /\bPR\s*#?\d+\b/,
  /(?<![\w&#/])#\d+\b/,
];

/** A Markdown file's headings, outside fenced code (where `#` starts a YAML or shell comment). */
function headings(markdown: string): string[] {
  let fenced = false;
  const out: string[] = [];
  for (const line of markdown.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    else if (!fenced && /^#{1,6}\s/.test(line)) out.push(line.replace(/^#{1,6}\s+/, '').trim());
  }
  return out;
}

/** Problems with one comment of `file` (repository-relative). */
export function checkComment(comment: string, file: string, repo: RepoIndex): string[] {
  const problems: string[] = [];
  const text = comment.replace(URL_RE, ' ');
  const machine = MACHINE_PATH_RE.exec(text);
  if (machine) problems.push(`machine path ${machine[0]}`);
  const ticket = TICKET_RES.map((re) => re.exec(text)).find((m) => m !== null);
  if (ticket) problems.push(`ticket reference ${ticket[0]}`);
  const parents: string[] = [];
  for (let d = dirname(file); d !== '.'; d = dirname(d)) parents.push(d);
  for (const m of text.matchAll(FOLDER_RE)) {
    if (repo.topLevel.has(m[1]!.split('/')[0]!) && !repo.dirs.has(m[1]!.replace(/\/$/, ''))) problems.push(`cites ${m[1]!}, which is no folder of the repository`);
  }
  for (const m of text.matchAll(CITATION_RE)) {
    const cited = m[1]!;
    const ext = m[2]!;
    const before = text.slice(0, m.index);
    if (/\w's\s+$/.test(before)) continue;
    /** The files the citation may mean: for a bare Markdown name, the nearest one up the folders and the root's. */
    let resolved: string[] = [];
    if (cited.includes('/')) {
      const first = cited.split('/')[0]!;
      if (!SOURCE_EXT.has(ext) && !repo.topLevel.has(first) && !cited.startsWith('.')) continue;
      const norm = (p: string) => join(p).split(sep).join('/');
      resolved = ['', ...parents].map((base) => norm(base === '' ? cited : `${base}/${cited}`)).filter((p) => repo.files.has(p));
      if (resolved.length === 0) {
        problems.push(`cites ${cited}, which does not exist`);
        continue;
      }
    } else {
      if (!SOURCE_EXT.has(ext)) continue;
      if (!repo.names.has(cited)) {
        problems.push(`cites ${cited}, which does not exist in the repository`);
        continue;
      }
      if (ext === 'md') resolved = [...parents.map((p) => `${p}/${cited}`), cited].filter((p) => repo.files.has(p));
    }
    if (ext !== 'md' || resolved.length === 0) continue;
    const after = text.slice(m.index + m[0].length).replace(/^\s*\*?\s*/, '');
    const section = /^§\s*(\d+(?:\.\d+)*)/.exec(after);
    const title = /^"([^"\n]+)"/.exec(after);
    if (!section && !title) continue;
    const heads = resolved.flatMap((p) => headings(repo.read(p)));
    if (section && !heads.some((h) => h.startsWith(`${section[1]}.`) || h.startsWith(`${section[1]} `))) problems.push(`cites ${cited} §${section[1]}, which has no such section`);
    if (title && !heads.some((h) => h.toLowerCase().includes(title[1]!.toLowerCase()))) problems.push(`cites ${cited} "${title[1]}", which has no such heading`);
  }
  return problems;
}

const REPO = repoIndex();
const SOURCES = [...REPO.files].filter((f) => /\.(ts|mts|tsx)$/.test(f) && REPO.topLevel.has(f.split('/')[0]!)).sort();

describe('source comments cite only what the repository holds', () => {
  it('scans the sources and tests of every folder', () => {
    for (const folder of ['agent', 'collector', 'contract', 'simulators', 'cli', 'dashboards', 'bench', 'test']) {
      expect(SOURCES.some((f) => f.startsWith(`${folder}/`)), folder).toBe(true);
    }
  });

  it('no comment cites a missing file or section, a machine path or a ticket', () => {
    const problems: string[] = [];
    for (const file of SOURCES) {
      for (const c of commentsOf(REPO.read(file))) for (const p of checkComment(c.text, file, REPO)) problems.push(`${file}:${c.line}: ${p}`);
    }
    expect(problems).toEqual([]);
  });

  describe('the rules', () => {
    const check = (comment: string, file = 'collector/kpi/live-pue.ts') => checkComment(comment, file, REPO);

    it('finds comments, not strings or regular expressions', () => {
      const src = [
        "const a = '// not a comment';",
        'const r = /\\/\\/x/;',
        '/** one */',
        'const b = `/* nor ${ { k: `// this` }.k } ${x / 2} either */`; // two',
        'const c = a / 2 / 3; /* three */',
        'if (!/\\/\\//.test(a)) x = `${y}`; // four',
      ].join('\n');
      expect(commentsOf(src)).toEqual([
        { line: 3, text: '/** one */' },
        { line: 4, text: '// two' },
        { line: 5, text: '/* three */' },
        { line: 6, text: '// four' },
      ]);
    });

    it('accepts files and sections that exist', () => {
      expect(check('/** See docs/design.md §5 and docs/design.md §2. */')).toEqual([]);
      expect(check('// (README.md "How to add a device")')).toEqual([]);
      expect(check('// as site-kpis.ts does')).toEqual([]);
      expect(check('// the shared helper (support/services.ts)', 'test/agent/snmp/x.test.ts')).toEqual([]);
    });

    it('refuses missing files and sections', () => {
      expect(check('// placed by layout-engine.ts')).toEqual(['cites layout-engine.ts, which does not exist in the repository']);
      expect(check('// test/cli/nothing-here.test.ts keeps it in step')).toEqual(['cites test/cli/nothing-here.test.ts, which does not exist']);
      expect(check('// as DESIGN.md says')).toHaveLength(1);
      expect(check('/** docs/design.md §42 */')).toEqual(['cites docs/design.md §42, which has no such section']);
      expect(check('// README.md "No such heading anywhere"')).toHaveLength(1);
      expect(check('// docs/kpi-nowhere.md')).toHaveLength(1);
      expect(check('// one module each in collector/kpi/no-such-folder/')).toEqual(['cites collector/kpi/no-such-folder/, which is no folder of the repository']);
      expect(check('// one module each in collector/kpi/registry/, or seeds/')).toEqual([]);
    });

    it('leaves placeholders, globs, URLs, libraries, runtime files and other projects alone', () => {
      expect(check('// <fixture>/redfish/v1/index.json, *.test.ts, ${id}.yaml')).toEqual([]);
      expect(check('// https://example.org/a/b/missing.md and mqtt.js')).toEqual([]);
      expect(check('// writes state/alerts.json next to site.yaml')).toEqual([]);
      expect(check("// after Zigbee2MQTT's lib/mqtt.ts")).toEqual([]);
    });

    it('refuses machine paths and ticket references', () => {
      expect(check('// copied from /work/main/x')).toEqual(['machine path /work/']);
      expect(check('// see /home/ops/notes')).toEqual(['machine path /home/']);
      expect(check('//   dir: /tmp/spool')).toEqual(['machine path /tmp/']);
      expect(check('//   state_dir: /var/lib/dcim-agent')).toEqual([]);
      for (const t of ['ISSUE-12', 'DCIM-7', 'issue 12', 'Issue #3', 'ticket 9', 'PR #40', 'fixed in #12']) expect(check(`// ${t}`), t).toHaveLength(1);
      for (const t of ['UTF-8', 'SHA-256', 'RS-485', 'RFC 3416 §4.2.1', '&#8211;', 'outlet 12']) expect(check(`// ${t}`), t).toEqual([]);
    });
  });
});
