import { describe, expect, it } from 'vitest';
import { collectionMembers, followLink, isResourcePath, linkPath, matchesWhere, memberIndex } from '../../../agent/decode/redfish-links.js';

const gpu = {
  '@odata.id': '/redfish/v1/Systems/1/Processors/GPU1',
  Id: 'GPU1',
  ProcessorType: 'GPU',
  Location: { PartLocation: { LocationOrdinalValue: 0 } },
  Metrics: { '@odata.id': '/redfish/v1/Systems/1/Processors/GPU1/ProcessorMetrics' },
  MemorySummary: { Metrics: { '@odata.id': '/redfish/v1/Systems/1/Processors/GPU1/MemorySummary/MemoryMetrics/' } },
  Bad: { '@odata.id': 'https://evil.example/redfish/v1' },
};

describe('Redfish links', () => {
  it.each([
    ['/redfish/v1', true],
    ['/redfish/v1/Chassis/1', true],
    ['/redfish/v1/Systems/System.Embedded.1/Processors/CPU.Socket.1', true],
    ['/redfish/v2/Chassis', false],
    ['/redfish/v10', false],
    ['https://bmc/redfish/v1', false],
    ['/redfish/v1/../../etc/passwd', false],
    ['/redfish/v1/./Chassis', false],
    ['/redfish/v1/Chassis?$expand=*', false],
    ['/redfish/v1/Chassis#frag', false],
    ['/redfish/v1/Chassis 1', false],
    [`/redfish/v1/${'x'.repeat(600)}`, false],
    [42, false],
  ])('isResourcePath(%j) = %s', (path, expected) => {
    expect(isResourcePath(path)).toBe(expected);
  });

  it('reads a link, dropping a trailing slash', () => {
    expect(linkPath({ '@odata.id': '/redfish/v1/Chassis/1/' })).toEqual({ ok: true, value: '/redfish/v1/Chassis/1' });
    expect(linkPath({ '@odata.id': '/redfish/v1/' })).toEqual({ ok: true, value: '/redfish/v1' });
    expect(linkPath(null).ok).toBe(false);
    expect(linkPath(['/redfish/v1']).ok).toBe(false);
    expect(linkPath({ '@odata.id': 5 }).ok).toBe(false);
  });

  it('lists the members of a collection in order', () => {
    const coll = { Members: [{ '@odata.id': '/redfish/v1/Systems/1/Processors/CPU1' }, { '@odata.id': '/redfish/v1/Systems/1/Processors/GPU1' }], 'Members@odata.count': 2 };
    expect(collectionMembers(coll)).toEqual({ ok: true, value: ['/redfish/v1/Systems/1/Processors/CPU1', '/redfish/v1/Systems/1/Processors/GPU1'] });
    expect(collectionMembers({ Members: [] })).toEqual({ ok: true, value: [] });
  });

  it.each([
    ['no Members', {}, /no Members/],
    ['Members not an array', { Members: {} }, /not an array/],
    ['a member that is no link', { Members: [{ '@odata.id': '/redfish/v1/a' }, 'x'] }, /Members\[1\]: not a link object/],
    ['a member outside the service', { Members: [{ '@odata.id': '/other' }] }, /Members\[0\]/],
    ['not an object at all', 'Members', /no Members/],
  ])('refuses a collection with %s', (_name, doc, reason) => {
    const r = collectionMembers(doc);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(reason);
  });

  it.each([
    ['no filter', undefined, true],
    ['GPU = GPU', { pointer: '/ProcessorType', equals: 'GPU' }, true],
    ['CPU ≠ GPU', { pointer: '/ProcessorType', equals: 'CPU' }, false],
    ['case matters', { pointer: '/ProcessorType', equals: 'gpu' }, false],
    ['a number', { pointer: '/Location/PartLocation/LocationOrdinalValue', equals: 0 }, true],
    ['no loose equality', { pointer: '/Location/PartLocation/LocationOrdinalValue', equals: '0' }, false],
    ['a missing property never matches', { pointer: '/Nope', equals: 'GPU' }, false],
  ] as const)('where: %s', (_name, where, expected) => {
    expect(matchesWhere(gpu, where)).toBe(expected);
  });

  it.each([
    ['/Id', { ok: true, value: 'GPU1' }],
    ['/Location/PartLocation/LocationOrdinalValue', { ok: true, value: '0' }],
    ['/Metrics', { ok: false }],
    ['/Nope', { ok: false }],
  ] as const)('memberIndex at %s', (pointer, expected) => {
    expect(memberIndex(gpu, pointer)).toMatchObject(expected);
  });

  it.each([
    ['an index with a space', { Id: 'GPU 1' }],
    ['an overlong index', { Id: 'G'.repeat(33) }],
    ['an empty index', { Id: '' }],
    ['a fractional index', { Id: 1.5 }],
    ['a null index', { Id: null }],
  ])('refuses %s', (_name, doc) => {
    expect(memberIndex(doc, '/Id').ok).toBe(false);
  });

  it('follows links, and refuses ones that leave the service', () => {
    expect(followLink(gpu, '/Metrics')).toEqual({ ok: true, value: '/redfish/v1/Systems/1/Processors/GPU1/ProcessorMetrics' });
    expect(followLink(gpu, '/MemorySummary/Metrics')).toEqual({ ok: true, value: '/redfish/v1/Systems/1/Processors/GPU1/MemorySummary/MemoryMetrics' });
    expect(followLink(gpu, '/Bad')).toMatchObject({ ok: false, reason: expect.stringMatching(/not a \/redfish\/v1 resource path/) });
    expect(followLink(gpu, '/EnvironmentMetrics')).toMatchObject({ ok: false, reason: expect.stringMatching(/no such member/) });
    expect(followLink(gpu, '/Id')).toMatchObject({ ok: false, reason: expect.stringMatching(/not a link object/) });
  });
});
