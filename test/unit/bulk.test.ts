// Bulk planning (RFC 7644 §3.7): dependency order, unknown and circular bulkId references.
import { parseBulkRequest, planBulk, substitutePath, substituteRefs } from '../../server/scim/bulk';

const plan = (ops: unknown[]) => planBulk(parseBulkRequest({ Operations: ops }, 100).operations);

describe('planBulk', () => {
  it('keeps the client order when nothing refers to anything', () => {
    const p = plan([
      { method: 'POST', path: '/Users', bulkId: 'a', data: {} },
      { method: 'POST', path: '/Users', bulkId: 'b', data: {} },
    ]);
    expect(p.order.map((o) => o.bulkId)).toEqual(['a', 'b']);
  });

  it('runs a referencing operation after the one that defines the bulkId (also nested in data)', () => {
    const p = plan([
      { method: 'POST', path: '/Groups', bulkId: 'g', data: { members: [{ value: 'bulkId:u' }] } },
      { method: 'PATCH', path: '/Users/bulkId:u', data: {} },
      { method: 'POST', path: '/Users', bulkId: 'u', data: {} },
    ]);
    expect(p.order.map((o) => o.index)).toEqual([2, 0, 1]);
    expect(p.failed.size).toBe(0);
  });

  it('fails cycles with 409 and unknown references with 400', () => {
    const p = plan([
      { method: 'POST', path: '/Groups', bulkId: 'a', data: { members: [{ value: 'bulkId:b' }] } },
      { method: 'POST', path: '/Groups', bulkId: 'b', data: { members: [{ value: 'bulkId:a' }] } },
      { method: 'POST', path: '/Groups', bulkId: 'c', data: { members: [{ value: 'bulkId:zz' }] } },
      { method: 'POST', path: '/Groups', bulkId: 'd', data: { members: [{ value: 'bulkId:d' }] } },
      { method: 'POST', path: '/Users', bulkId: 'e', data: {} },
    ]);
    expect(p.order.map((o) => o.bulkId)).toEqual(['e']);
    expect([...p.failed].map(([i, e]) => [i, e.status])).toEqual(
      expect.arrayContaining([
        [0, 409],
        [1, 409],
        [2, 400],
        [3, 409],
      ]),
    );
  });

  it('only a POST defines a bulkId; a reference to a PUT’s bulkId is unknown', () => {
    const p = plan([
      { method: 'PUT', path: '/Users/0190a0a0-0000-7000-8000-000000000001', bulkId: 'p', data: {} },
      { method: 'POST', path: '/Groups', data: { members: [{ value: 'bulkId:p' }] } },
    ]);
    expect(p.failed.get(1)?.message).toMatch(/not defined/);
  });

  it('refuses duplicate bulkIds and bad methods', () => {
    expect(plan([{ method: 'POST', path: '/Users', bulkId: 'a' }, { method: 'POST', path: '/Users', bulkId: 'a' }]).failed.get(1)?.status).toBe(400);
    expect(() => plan([{ method: 'GET', path: '/Users' }])).toThrow(/method/);
    expect(() => parseBulkRequest({ Operations: [{}, {}] }, 1)).toThrow(/maximum is 1/);
  });

  it('substitutes resolved ids everywhere, leaving unknown references as they are', () => {
    const ids = new Map([['u', 'id-1']]);
    expect(substituteRefs({ members: [{ value: 'bulkId:u' }, { value: 'bulkId:v' }], path: 'bulkId:u' }, ids)).toEqual({
      members: [{ value: 'id-1' }, { value: 'bulkId:v' }],
      path: 'id-1',
    });
    expect(substitutePath('/Users/bulkId:u', ids)).toBe('/Users/id-1');
    expect(substitutePath('/Users/bulkId:v', ids)).toBe('/Users/bulkId:v');
  });
});
