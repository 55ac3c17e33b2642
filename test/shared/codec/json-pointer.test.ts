import { describe, expect, it } from 'vitest';
import { formatJsonPointer, parseJsonPointer, resolveJsonPointer } from '../../../shared/codec/json-pointer.js';

// RFC 6901 §5 example document.
const rfc = JSON.parse(`{
  "foo": ["bar", "baz"], "": 0, "a/b": 1, "c%d": 2, "e^f": 3, "g|h": 4, "i\\\\j": 5, "k\\"l": 6, " ": 7, "m~n": 8
}`) as unknown;

describe('resolveJsonPointer', () => {
  it.each([
    ['', rfc],
    ['/foo', ['bar', 'baz']],
    ['/foo/0', 'bar'],
    ['/', 0],
    ['/a~1b', 1],
    ['/c%d', 2],
    ['/e^f', 3],
    ['/g|h', 4],
    ['/i\\j', 5],
    ['/k"l', 6],
    ['/ ', 7],
    ['/m~0n', 8],
  ])('RFC 6901 §5: %j', (pointer, expected) => {
    expect(resolveJsonPointer(rfc, pointer)).toEqual({ ok: true, value: expected });
  });

  const bmc = { PowerWatts: { Reading: 689.2, DataSourceUri: null }, Members: [{ '@odata.id': '/redfish/v1/x' }], Zero: 0, Flag: false, Text: '' };
  it.each([
    ['a nested reading', '/PowerWatts/Reading', 689.2],
    ['an explicit null is a value', '/PowerWatts/DataSourceUri', null],
    ['falsy values are found', '/Zero', 0],
    ['false is found', '/Flag', false],
    ['the empty string is found', '/Text', ''],
    ['into an array element', '/Members/0/@odata.id', '/redfish/v1/x'],
  ])('%s', (_name, pointer, expected) => {
    expect(resolveJsonPointer(bmc, pointer)).toEqual({ ok: true, value: expected });
  });

  it.each([
    ['no leading slash', 'PowerWatts', /malformed/],
    ['a lone tilde', '/m~n', /malformed/],
    ['~2 is no escape', '/a~2b', /malformed/],
    ['a trailing tilde', '/PowerWatts~', /malformed/],
    ['a missing member', '/PowerWatts/Average', /\/PowerWatts\/Average: no such member/],
    ['index past the end', '/Members/1', /index 1 past the end/],
    ['"-" never exists when reading', '/Members/-', /not an array index/],
    ['a leading zero is no index', '/Members/01', /not an array index/],
    ['a negative index', '/Members/-1', /not an array index/],
    ['stepping into a number', '/PowerWatts/Reading/x', /cannot step into number/],
    ['stepping into null', '/PowerWatts/DataSourceUri/x', /cannot step into null/],
    ['the prototype is not a member', '/__proto__', /no such member/],
    ['constructor is not a member', '/constructor', /no such member/],
    ['toString of an array', '/Members/toString', /not an array index/],
    ['inherited property of an object', '/PowerWatts/hasOwnProperty', /no such member/],
  ])('refuses %s', (_name, pointer, reason) => {
    const r = resolveJsonPointer(bmc, pointer);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(reason);
  });

  it('finds a key literally named __proto__ when the JSON has one', () => {
    const doc = JSON.parse('{"__proto__": {"x": 1}}') as unknown;
    expect(resolveJsonPointer(doc, '/__proto__/x')).toEqual({ ok: true, value: 1 });
  });

  it('resolves against a primitive root', () => {
    expect(resolveJsonPointer(42, '')).toEqual({ ok: true, value: 42 });
    expect(resolveJsonPointer(42, '/a').ok).toBe(false);
    expect(resolveJsonPointer(undefined, '/a').ok).toBe(false);
  });
});

describe('parseJsonPointer / formatJsonPointer', () => {
  it.each([
    ['', []],
    ['/', ['']],
    ['/a~1b/m~0n', ['a/b', 'm~n']],
    // ~01 is "~1" literally: unescape ~1 first would wrongly give "/".
    ['/~01', ['~1']],
    ['//', ['', '']],
  ])('%j ↔ %j', (pointer, tokens) => {
    expect(parseJsonPointer(pointer)).toEqual(tokens);
    expect(formatJsonPointer(tokens)).toBe(pointer);
  });

  it.each(['x', '/~', '/~x'])('%j is malformed', (pointer) => {
    expect(parseJsonPointer(pointer)).toBeUndefined();
  });
});
