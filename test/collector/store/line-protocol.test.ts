import { describe, expect, it } from 'vitest';
import { encodeLines, encodePoint } from '../../../collector/store/line-protocol.js';
import { int, type MetricPoint } from '../../../collector/store/metric-point.js';

const p = (over: Partial<MetricPoint>): MetricPoint => ({ measurement: 'pdu', tags: { site: 'demo' }, fields: { active_power_w: 1140 }, ts_ms: 1767225600000, ...over });

describe('encodePoint', () => {
  const cases: { name: string; point: MetricPoint; line: string }[] = [
    { name: 'float field, ms timestamp', point: p({}), line: 'pdu,site=demo active_power_w=1140 1767225600000' },
    { name: 'tags sorted by key', point: p({ tags: { site: 'demo', device: 'pdu-1', hall: 'h1' } }), line: 'pdu,device=pdu-1,hall=h1,site=demo active_power_w=1140 1767225600000' },
    { name: 'fields sorted, every type', point: p({ fields: { b: true, f: 1.5, i: int(42), s: 'ok', z: false } }), line: 'pdu,site=demo b=true,f=1.5,i=42i,s="ok",z=false 1767225600000' },
    { name: 'bigint integer', point: p({ fields: { c: int(2n ** 62n) } }), line: `pdu,site=demo c=${2n ** 62n}i 1767225600000` },
    { name: 'negative and exponent floats', point: p({ fields: { a: -0.25, b: 1e21, c: 5e-7 } }), line: 'pdu,site=demo a=-0.25,b=1e+21,c=5e-7 1767225600000' },
    { name: 'comma and space in measurement', point: p({ measurement: 'my meas,x' }), line: 'my\\ meas\\,x,site=demo active_power_w=1140 1767225600000' },
    { name: 'comma, equals, space in tags and keys', point: p({ tags: { 'a b': 'c,d=e f' }, fields: { 'x=y,z w': 1 } }), line: 'pdu,a\\ b=c\\,d\\=e\\ f x\\=y\\,z\\ w=1 1767225600000' },
    { name: 'quotes and backslashes in strings', point: p({ fields: { s: 'say "hi" \\o/' } }), line: 'pdu,site=demo s="say \\"hi\\" \\\\o/" 1767225600000' },
    { name: 'empty and undefined tags omitted', point: p({ tags: { site: 'demo', rack: '', hall: undefined } }), line: 'pdu,site=demo active_power_w=1140 1767225600000' },
    { name: 'unicode kept', point: p({ tags: { site: '贵安' }, fields: { name: '绿电' } }), line: 'pdu,site=贵安 name="绿电" 1767225600000' },
    { name: 'NaN field dropped, others kept', point: p({ fields: { a: NaN, b: 2 } }), line: 'pdu,site=demo b=2 1767225600000' },
    { name: 'Infinity dropped', point: p({ fields: { a: Infinity, b: -Infinity, c: 3 } }), line: 'pdu,site=demo c=3 1767225600000' },
    { name: 'string with newline dropped', point: p({ fields: { s: 'a\nb', n: 1 } }), line: 'pdu,site=demo n=1 1767225600000' },
    { name: 'unsafe integer dropped', point: p({ fields: { i: int(2 ** 60), n: 1 } }), line: 'pdu,site=demo n=1 1767225600000' },
    { name: 'bigint beyond int64 dropped', point: p({ fields: { i: int(2n ** 63n), n: 1 } }), line: 'pdu,site=demo n=1 1767225600000' },
  ];
  it.each(cases)('$name', ({ point, line }) => {
    const r = encodePoint(point);
    expect(r.ok && r.value.line).toBe(line);
  });

  const refused: { name: string; point: MetricPoint; reason: RegExp }[] = [
    { name: 'empty measurement', point: p({ measurement: '' }), reason: /measurement is empty/ },
    { name: 'newline in measurement', point: p({ measurement: 'pdu\nkpi value=1 0' }), reason: /control character/ },
    { name: 'comment measurement', point: p({ measurement: '#pdu' }), reason: /comment/ },
    { name: 'newline in a tag value (line injection)', point: p({ tags: { site: 'demo\nevil,x=1 y=2 0' } }), reason: /control character/ },
    { name: 'trailing backslash in a tag value', point: p({ tags: { site: 'demo\\' } }), reason: /backslash/ },
    { name: 'NUL in a tag key', point: p({ tags: { 'si\u0000te': 'demo' } }), reason: /control character/ },
    { name: 'fractional timestamp', point: p({ ts_ms: 1.5 }), reason: /timestamp/ },
    { name: 'NaN timestamp', point: p({ ts_ms: NaN }), reason: /timestamp/ },
    { name: 'no fields', point: p({ fields: {} }), reason: /no fields/ },
    { name: 'only bad fields', point: p({ fields: { a: NaN, b: 'x\ny' } }), reason: /no writable field/ },
  ];
  it.each(refused)('refuses: $name', ({ point, reason }) => {
    const r = encodePoint(point);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(reason);
  });

  it('a very long string over 64 KiB is dropped', () => {
    const r = encodePoint(p({ fields: { s: 'x'.repeat(70_000), n: 1 } }));
    expect(r.ok && r.value.field_problems[0]).toMatch(/longer than/);
  });
});

describe('encodeLines', () => {
  it('counts dropped points and fields and keeps the rest', () => {
    const b = encodeLines([p({}), p({ measurement: '' }), p({ fields: { a: NaN, b: 1 } }), p({ ts_ms: Infinity })]);
    expect(b.lines).toHaveLength(2);
    expect(b.points_dropped).toBe(2);
    expect(b.fields_dropped).toBe(1);
    expect(b.problems).toHaveLength(3);
  });

  it('bounds the problem list', () => {
    const b = encodeLines(Array.from({ length: 100 }, () => p({ measurement: '' })));
    expect(b.points_dropped).toBe(100);
    expect(b.problems.length).toBeLessThanOrEqual(10);
  });
});
