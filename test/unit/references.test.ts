// References between resource types are read from the schemas (resources/references.ts), not
// declared per type: this table is what schemas/*.json make of them. The behaviour on both
// databases is test/api/agents.test.ts.
import { References } from '../../server/resources/references';
import { catalog } from './helpers';

const refs = (kind: (typeof catalog.kinds)[number]) => catalog.references.of(kind).map((r) => [r.attribute.name, r.to.map((k) => k.name)]);

describe('references found in the schemas', () => {
  it('an agent names users or groups as owners and another agent as parent; an application names agents', () => {
    expect(refs(catalog.agents)).toEqual([
      ['owners', ['User', 'Group']],
      ['parent', ['Agent']],
    ]);
    expect(refs(catalog.agenticApplications)).toEqual([['agents', ['Agent']]]);
  });

  it('users and groups have none: their members and groups are memberships, not references', () => {
    expect(refs(catalog.users)).toEqual([]);
    expect(refs(catalog.groups)).toEqual([]);
  });

  it('who names a type (what a delete of it must update)', () => {
    const to = (kind: (typeof catalog.kinds)[number]) => catalog.references.to(kind).map((r) => `${r.from.name}.${r.attribute.name}`);
    expect(to(catalog.users)).toEqual(['Agent.owners']);
    expect(to(catalog.agents)).toEqual(['Agent.parent', 'AgenticApplication.agents']);
    expect(to(catalog.agenticApplications)).toEqual([]);
  });

  it("an agent's read-only applications is the inverse of the applications' agents, and filterable on value", () => {
    expect(Object.keys(catalog.agents.repo.spec.map.memberships ?? {})).toEqual(['applications']);
    expect(catalog.users.repo.spec.map.memberships).toHaveProperty('groups');
    expect(Object.keys(catalog.users.repo.spec.map.memberships ?? {})).toEqual(['groups']);
  });

  it('drops a reference from a stored resource: the element of a list (an emptied list is absent), a singular one whole', () => {
    const [owners, parent] = catalog.references.of(catalog.agents).map((r) => r.attribute);
    const data = { name: 'a', owners: [{ value: 'u1' }, { value: 'u2' }], parent: { value: 'p' } };
    expect(References.without(data, owners, 'u1')).toEqual({ name: 'a', owners: [{ value: 'u2' }], parent: { value: 'p' } });
    expect(References.without({ name: 'a', owners: [{ value: 'u1' }] }, owners, 'u1')).toEqual({ name: 'a' });
    expect(References.without(data, parent, 'p')).toEqual({ name: 'a', owners: data.owners });
    expect(References.without(data, parent, 'other')).toEqual(data);
  });
});
