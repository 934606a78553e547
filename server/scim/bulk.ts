// Bulk requests (RFC 7644 §3.7): parsing, bulkId references and the order to run operations in.
// An operation that references "bulkId:x" (in its path or anywhere in its data, e.g. a group's
// members) runs after the operation that creates x; circular references are detected and those
// operations fail with 409 (§3.7.1 lets a service provider stop there). Pure; test/unit/bulk.test.ts.
import { conflict, invalidSyntax, invalidValue, payloadTooLarge, ScimError } from '../errors';
import { isObject, Json, JsonObject } from './normalize';

import { BULK_REQUEST_URN } from './urns';

export interface BulkOperation {
  index: number;
  method: 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  bulkId?: string;
  version?: string;
  path: string;
  data?: Json;
  /** bulkIds this operation refers to. */
  refs: string[];
}

export interface BulkRequest {
  failOnErrors?: number;
  operations: BulkOperation[];
}

const BULK_REF = /^bulkId:(.+)$/;
/** A bulkId as a path segment: "/Groups/bulkId:qwerty" (RFC 7644 §3.7.2). */
const PATH_REF = /(?<=\/)bulkId:([^/?#]+)/g;

/** Replaces "bulkId:x" path segments with the ids created for them. */
export function substitutePath(path: string, ids: Map<string, string>): string {
  return path.replace(PATH_REF, (whole, ref: string) => ids.get(ref) ?? whole);
}

function collectRefs(value: Json | undefined, out: Set<string>): void {
  if (typeof value === 'string') {
    const m = BULK_REF.exec(value);
    if (m) out.add(m[1]);
  } else if (Array.isArray(value)) value.forEach((v) => collectRefs(v, out));
  else if (isObject(value)) Object.values(value).forEach((v) => collectRefs(v, out));
}

/** Replaces every "bulkId:x" string with the id created for x. */
export function substituteRefs<T extends Json | undefined>(value: T, ids: Map<string, string>): T {
  if (typeof value === 'string') {
    const m = BULK_REF.exec(value);
    return (m && ids.has(m[1]) ? ids.get(m[1]) : value) as T;
  }
  if (Array.isArray(value)) return value.map((v) => substituteRefs(v, ids)) as T;
  if (isObject(value)) {
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(value)) out[k] = substituteRefs(v, ids) as Json;
    return out as T;
  }
  return value;
}

const field = (obj: JsonObject, name: string) => {
  const key = Object.keys(obj).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : obj[key];
};

/** Reads a BulkRequest; more operations than allowed is 413 (RFC 7644 §3.7.4). */
export function parseBulkRequest(body: unknown, maxOperations: number): BulkRequest {
  if (!isObject(body)) throw invalidSyntax('The bulk request must be a JSON object with "Operations"');
  const schemas = field(body, 'schemas');
  if (schemas !== undefined && !(Array.isArray(schemas) && schemas.some((s) => typeof s === 'string' && s.toLowerCase() === BULK_REQUEST_URN.toLowerCase()))) {
    throw invalidSyntax(`schemas must contain ${BULK_REQUEST_URN}`);
  }
  const ops = field(body, 'Operations');
  if (!Array.isArray(ops)) throw invalidSyntax('"Operations" must be an array');
  if (ops.length > maxOperations) throw payloadTooLarge(`The bulk request has ${ops.length} operations; the maximum is ${maxOperations}`);
  const failRaw = field(body, 'failOnErrors');
  let failOnErrors: number | undefined;
  if (failRaw !== undefined && failRaw !== null) {
    const n = typeof failRaw === 'string' ? Number(failRaw) : failRaw;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) throw invalidSyntax('failOnErrors must be a positive integer');
    failOnErrors = n;
  }
  const operations = ops.map((raw, index): BulkOperation => {
    if (!isObject(raw)) throw invalidSyntax(`Operations[${index}] must be an object`);
    const method = String(field(raw, 'method') ?? '').toUpperCase();
    if (!['POST', 'PUT', 'PATCH', 'DELETE'].includes(method)) throw invalidSyntax(`Operations[${index}].method must be POST, PUT, PATCH or DELETE`);
    const path = field(raw, 'path');
    if (typeof path !== 'string' || !path.startsWith('/')) throw invalidSyntax(`Operations[${index}].path must be a path such as "/Users"`);
    const bulkId = field(raw, 'bulkId');
    if (bulkId !== undefined && bulkId !== null && (typeof bulkId !== 'string' || bulkId === '')) throw invalidSyntax(`Operations[${index}].bulkId must be a string`);
    const version = field(raw, 'version');
    const data = field(raw, 'data');
    const refs = new Set<string>();
    for (const m of path.matchAll(PATH_REF)) refs.add(m[1]);
    collectRefs(data, refs);
    return {
      index,
      method: method as BulkOperation['method'],
      bulkId: typeof bulkId === 'string' ? bulkId : undefined,
      version: typeof version === 'string' ? version : undefined,
      path,
      data,
      refs: [...refs],
    };
  });
  return { failOnErrors, operations };
}

export interface BulkPlan {
  /** Operations in the order to run them. */
  order: BulkOperation[];
  /** Operations that cannot run, with the error to report. */
  failed: Map<number, ScimError>;
}

/**
 * Orders operations so that each runs after the POST that defines every bulkId it references,
 * keeping the client's order otherwise. Unknown references are 400 invalidValue; operations in
 * (or depending on) a reference cycle are 409.
 */
export function planBulk(ops: BulkOperation[]): BulkPlan {
  const failed = new Map<number, ScimError>();
  const definer = new Map<string, BulkOperation>();
  for (const op of ops) {
    // Only a POST creates something a bulkId can stand for; on other methods bulkId is an echo label.
    if (!op.bulkId || op.method !== 'POST') continue;
    if (definer.has(op.bulkId)) failed.set(op.index, invalidValue(`bulkId "${op.bulkId}" is used by more than one operation`));
    else definer.set(op.bulkId, op);
  }
  for (const op of ops) {
    const unknown = op.refs.find((r) => !definer.has(r));
    if (unknown !== undefined && !failed.has(op.index)) failed.set(op.index, invalidValue(`bulkId "${unknown}" is not defined by any operation of this request`));
  }
  const order: BulkOperation[] = [];
  const state = new Map<number, 'visiting' | 'done'>();
  const visit = (op: BulkOperation, stack: BulkOperation[]): boolean => {
    if (failed.has(op.index)) return false;
    const s = state.get(op.index);
    if (s === 'done') return true;
    if (s === 'visiting') {
      for (const member of stack.slice(stack.indexOf(op))) {
        failed.set(member.index, conflict(`Circular bulkId references involving "${op.bulkId}" cannot be resolved`));
      }
      return false;
    }
    state.set(op.index, 'visiting');
    let ok = true;
    for (const r of op.refs) {
      const dep = definer.get(r)!;
      if (dep === op) {
        failed.set(op.index, conflict(`Operation with bulkId "${r}" refers to itself`));
        ok = false;
        continue;
      }
      if (!visit(dep, [...stack, op])) ok = false;
    }
    state.set(op.index, 'done');
    if (!ok) {
      if (!failed.has(op.index)) failed.set(op.index, conflict(`An operation this one refers to (by bulkId) failed or could not run`));
      return false;
    }
    if (!failed.has(op.index)) order.push(op);
    return !failed.has(op.index);
  };
  for (const op of ops) visit(op, []);
  return { order, failed };
}
