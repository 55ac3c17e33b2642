import { describe, expect, it } from 'vitest';
import { DoneIds, parseDoneIds } from '../../../shared/spool/done-ids.js';

describe('DoneIds', () => {
  it('acks in order raise the floor and keep no ranges', () => {
    const d = new DoneIds();
    for (let i = 0; i < 5; i++) expect(d.add(i)).toBe(true);
    expect(d.state()).toEqual({ floor: 5, ranges: [] });
  });

  it.each<[string, number[], { floor: number; ranges: [number, number][] }]>([
    ['one ahead of the floor', [3], { floor: 0, ranges: [[3, 3]] }],
    ['a live run ahead of the backlog', [10, 11, 12, 0, 1], { floor: 2, ranges: [[10, 12]] }],
    ['a hole filled last', [0, 2, 1], { floor: 3, ranges: [] }],
    ['two runs joined by one id', [5, 6, 8, 9, 7], { floor: 0, ranges: [[5, 9]] }],
    ['out of order with gaps', [9, 3, 7, 5], { floor: 0, ranges: [[3, 3], [5, 5], [7, 7], [9, 9]] }],
    ['a duplicate ack', [4, 4, 4], { floor: 0, ranges: [[4, 4]] }],
  ])('%s', (_name, acks, want) => {
    const d = new DoneIds();
    for (const id of acks) d.add(id);
    expect(d.state()).toEqual(want);
  });

  it('add says whether the id was new', () => {
    const d = new DoneIds({ floor: 10, ranges: [[20, 25]] });
    expect(d.add(3)).toBe(false);
    expect(d.add(22)).toBe(false);
    expect(d.add(26)).toBe(true);
    expect(d.state()).toEqual({ floor: 10, ranges: [[20, 26]] });
  });

  it('addRange merges with what it touches and folds into the floor', () => {
    const d = new DoneIds({ floor: 0, ranges: [[5, 6], [10, 12], [20, 20]] });
    d.addRange(7, 9);
    expect(d.state()).toEqual({ floor: 0, ranges: [[5, 12], [20, 20]] });
    d.addRange(0, 4);
    expect(d.state()).toEqual({ floor: 13, ranges: [[20, 20]] });
    d.addRange(3, 2); // empty
    d.addRange(1, 8); // below the floor
    expect(d.state()).toEqual({ floor: 13, ranges: [[20, 20]] });
    d.addRange(15, 30);
    expect(d.state()).toEqual({ floor: 13, ranges: [[15, 30]] });
  });

  it('has / nextNotDone / countDone', () => {
    const d = new DoneIds({ floor: 4, ranges: [[6, 8], [10, 10]] });
    expect([3, 4, 5, 6, 8, 9, 10, 11].map((i) => d.has(i))).toEqual([true, false, false, true, true, false, true, false]);
    expect([0, 4, 5, 6, 7, 9, 10, 11].map((i) => d.nextNotDone(i))).toEqual([4, 4, 5, 9, 9, 9, 11, 11]);
    expect(d.countDone(0, 12)).toBe(4 + 3 + 1);
    expect(d.countDone(5, 10)).toBe(3);
    expect(d.countDone(7, 7)).toBe(0);
    expect(d.countDone(9, 2)).toBe(0);
  });

  it('normalises a state whose ranges touch or reach the floor', () => {
    const d = new DoneIds({ floor: 3, ranges: [[3, 5], [6, 7], [9, 9]] });
    expect(d.state()).toEqual({ floor: 8, ranges: [[9, 9]] });
  });
});

describe('parseDoneIds (the ack file)', () => {
  it('reads what DoneIds writes', () => {
    const d = new DoneIds({ floor: 7, ranges: [[9, 12], [20, 21]] });
    expect(parseDoneIds(JSON.stringify(d.state()))).toEqual(d.state());
  });

  it.each([
    ['empty', ''],
    ['not JSON', '{"floor": 3'],
    ['null', 'null'],
    ['an array', '[1,2]'],
    ['no floor', '{"ranges":[]}'],
    ['a negative floor', '{"floor":-1,"ranges":[]}'],
    ['a fractional floor', '{"floor":1.5,"ranges":[]}'],
    ['a string floor', '{"floor":"3","ranges":[]}'],
    ['ranges not an array', '{"floor":3,"ranges":{}}'],
    ['a range of three', '{"floor":3,"ranges":[[5,6,7]]}'],
    ['a reversed range', '{"floor":3,"ranges":[[9,5]]}'],
    ['a range below the floor', '{"floor":10,"ranges":[[5,6]]}'],
    ['overlapping ranges', '{"floor":0,"ranges":[[5,9],[8,12]]}'],
    ['unsorted ranges', '{"floor":0,"ranges":[[20,21],[5,6]]}'],
    ['an id above 2^53', '{"floor":0,"ranges":[[5,9007199254740993]]}'],
  ])('refuses %s', (_name, text) => {
    expect(parseDoneIds(text)).toBeUndefined();
  });
});
