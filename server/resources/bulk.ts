// Runs a bulk request (RFC 7644 §3.7) through the same service as single requests, so every
// rule of a single write holds inside Bulk too. Each operation is its own transaction (atomic on
// its own); failOnErrors stops processing after that many errors (§3.7.3).
import { conflict, invalidValue, ScimError } from '../errors';
import { BulkOperation, parseBulkRequest, planBulk, substitutePath, substituteRefs } from '../scim/bulk';
import { Json } from '../scim/normalize';
import { ResourceKind } from './kinds';
import { etagOf, ResourceService, Scope } from './service';

export interface BulkResult {
  method: string;
  bulkId?: string;
  location?: string;
  version?: string;
  status: number;
  error?: ScimError;
}

export class BulkService {
  constructor(
    private readonly service: ResourceService,
    private readonly kinds: ResourceKind[],
  ) {}

  private target(op: BulkOperation, path: string): { kind: ResourceKind; id?: string } {
    const m = /^\/([^/?#]+)(?:\/([^/?#]+))?\/?$/.exec(path);
    const kind = m && this.kinds.find((k) => k.endpoint.toLowerCase() === m[1].toLowerCase());
    if (!m || !kind) throw invalidValue(`Operations[${op.index}].path "${op.path}" is not ${this.kinds.map((k) => `/${k.endpoint}`).join(', ')} or one of their resources`);
    const id = m[2];
    if (op.method === 'POST' && id) throw invalidValue(`Operations[${op.index}]: POST goes to "/${kind.endpoint}", not to a resource`);
    if (op.method !== 'POST' && !id) throw invalidValue(`Operations[${op.index}]: ${op.method} needs a resource path such as "/${kind.endpoint}/{id}"`);
    return { kind, id };
  }

  /** `toError` turns anything thrown into the error reported for that operation. */
  async run(scope: Scope, body: unknown, maxOperations: number, toError: (err: unknown) => ScimError): Promise<BulkResult[]> {
    const request = parseBulkRequest(body, maxOperations);
    const plan = planBulk(request.operations);
    // Run in dependency order; operations refused by the plan report where they stood.
    const sequence: BulkOperation[] = [...plan.order];
    for (const op of request.operations) {
      if (!plan.failed.has(op.index)) continue;
      const at = sequence.findIndex((s) => s.index > op.index);
      sequence.splice(at === -1 ? sequence.length : at, 0, op);
    }
    const created = new Map<string, string>();
    const results: BulkResult[] = [];
    let errors = 0;
    for (const op of sequence) {
      if (request.failOnErrors !== undefined && errors >= request.failOnErrors) break;
      const result: BulkResult = { method: op.method, ...(op.bulkId ? { bulkId: op.bulkId } : {}), status: 0 };
      try {
        const planned = plan.failed.get(op.index);
        if (planned) throw planned;
        const missing = op.refs.find((r) => !created.has(r));
        if (missing !== undefined) throw conflict(`bulkId "${missing}" could not be resolved: the operation that creates it failed`);
        const path = substitutePath(op.path, created);
        const data = substituteRefs(op.data as Json, created);
        const { kind, id } = this.target(op, path);
        switch (op.method) {
          case 'POST': {
            const out = await this.service.create(scope, kind, data, {});
            const newId = out.resource.id as string;
            if (op.bulkId) created.set(op.bulkId, newId);
            Object.assign(result, { status: 201, location: this.service.location(scope, kind, newId), version: etagOf(out.version) });
            break;
          }
          case 'PUT': {
            const out = await this.service.replace(scope, kind, id!, data, op.version, {});
            Object.assign(result, { status: 200, location: this.service.location(scope, kind, id!), version: etagOf(out.version) });
            break;
          }
          case 'PATCH': {
            const out = await this.service.patch(scope, kind, id!, data, op.version, undefined);
            Object.assign(result, { status: 204, location: this.service.location(scope, kind, id!), version: etagOf(out.version) });
            break;
          }
          case 'DELETE':
            await this.service.delete(scope, kind, id!, op.version);
            Object.assign(result, { status: 204, location: this.service.location(scope, kind, id!) });
            break;
        }
      } catch (err) {
        const e = toError(err);
        // A lost database is not the operation's fault: fail the whole request (503).
        if (e.status >= 500) throw err;
        result.status = e.status;
        result.error = e;
        errors++;
      }
      results.push(result);
    }
    return results;
  }
}
