// Query parameters of a list or search request (RFC 7644 §3.4.2, §3.4.3; RFC 9865 §2): parsed
// from the URL of a GET or the body of a POST /.search into one shape, with the RFC's clamping.
// Pure; test/unit/list-query.test.ts.
import { invalidCount, invalidSyntax, invalidValue } from '../errors';
import { isObject } from './normalize';
import { Projection, splitAttributeList } from './projection';

export interface PagingLimits {
  defaultPageSize: number;
  maxPageSize: number;
}

export interface ListQuery extends Projection {
  filter?: string;
  sortBy?: string;
  sortOrder: 'ascending' | 'descending';
  /** Index paging (RFC 7644 §3.4.2.4), 1-based. Absent in cursor mode. */
  startIndex?: number;
  count: number;
  /** Cursor paging (RFC 9865): '' asks for the first page. */
  cursor?: string;
}

import { SEARCH_REQUEST_URN as SEARCH_REQUEST } from './urns';

function single(raw: unknown, name: string): string | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (Array.isArray(raw)) {
    if (raw.length === 0) return undefined;
    if (raw.length > 1) throw invalidValue(`${name} was given more than once`);
    raw = raw[0];
  }
  if (typeof raw === 'number' || typeof raw === 'boolean') return String(raw);
  if (typeof raw !== 'string') throw invalidValue(`${name} must be a string`);
  return raw;
}

function integerParam(raw: unknown, name: string, cursorMode: boolean): number | undefined {
  const s = single(raw, name);
  if (s === undefined || s.trim() === '') return undefined;
  if (!/^-?\d+$/.test(s.trim())) {
    const msg = `${name} must be an integer, got "${s}"`;
    throw cursorMode && name === 'count' ? invalidCount(msg) : invalidValue(msg);
  }
  return Number(s.trim());
}

/** Keys of query objects are matched case-insensitively (RFC 7644 §3.4.2: parameter names). */
function lowerKeys(obj: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) out[k.toLowerCase()] = v;
  return out;
}

/** Parses URL query parameters (GET) into a ListQuery. */
export function parseListQuery(query: Record<string, unknown>, limits: PagingLimits): ListQuery {
  return build(lowerKeys(query), limits);
}

/** Parses a POST /.search body (RFC 7644 §3.4.3) into a ListQuery. */
export function parseSearchRequest(body: unknown, limits: PagingLimits): ListQuery {
  if (!isObject(body)) throw invalidSyntax('The search request body must be a JSON object');
  const b = lowerKeys(body);
  const schemas = b.schemas;
  if (schemas !== undefined && !(Array.isArray(schemas) && schemas.some((s) => typeof s === 'string' && s.toLowerCase() === SEARCH_REQUEST.toLowerCase()))) {
    throw invalidSyntax(`schemas must contain ${SEARCH_REQUEST}`);
  }
  return build(b, limits);
}

function build(q: Record<string, unknown>, limits: PagingLimits): ListQuery {
  const cursorRaw = q.cursor;
  const cursorMode = cursorRaw !== undefined;
  const filter = single(q.filter, 'filter');
  const sortBy = single(q.sortby, 'sortBy');
  const orderRaw = single(q.sortorder, 'sortOrder');
  let sortOrder: ListQuery['sortOrder'] = 'ascending';
  if (orderRaw !== undefined && orderRaw !== '') {
    const o = orderRaw.toLowerCase();
    if (o !== 'ascending' && o !== 'descending') throw invalidValue(`sortOrder must be "ascending" or "descending", got "${orderRaw}"`);
    sortOrder = o;
  }
  const startRaw = integerParam(q.startindex, 'startIndex', cursorMode);
  const countRaw = integerParam(q.count, 'count', cursorMode);

  let count: number;
  if (cursorMode) {
    // RFC 9865 §2.1: count must be a positive integer; above maxPageSize we return fewer (§2).
    if (countRaw !== undefined && countRaw < 1) throw invalidCount(`count must be between 1 and ${limits.maxPageSize}`);
    count = Math.min(countRaw ?? limits.defaultPageSize, limits.maxPageSize);
  } else {
    // RFC 7644 §3.4.2.4: a negative count is 0; more than the maximum returns the maximum.
    count = countRaw === undefined ? limits.defaultPageSize : Math.min(Math.max(countRaw, 0), limits.maxPageSize);
  }
  const result: ListQuery = {
    filter: filter === '' ? undefined : filter,
    sortBy: sortBy === '' ? undefined : sortBy,
    sortOrder,
    count,
    attributes: splitAttributeList(q.attributes),
    excludedAttributes: splitAttributeList(q.excludedattributes),
  };
  if (cursorMode) {
    if (startRaw !== undefined) throw invalidValue('Use either cursor or startIndex, not both');
    const c = single(cursorRaw, 'cursor');
    result.cursor = c ?? '';
  } else {
    // RFC 7644 §3.4.2.4: a startIndex below 1 is interpreted as 1. A huge one is capped: it is past
    // any result set either way (an empty page), while the raw value (1e+23) would overflow the
    // database's bigint OFFSET and fail the request with a 500.
    result.startIndex = Math.min(Math.max(startRaw ?? 1, 1), Number.MAX_SAFE_INTEGER);
  }
  if (result.attributes && result.excludedAttributes) {
    throw invalidValue('Use either attributes or excludedAttributes, not both');
  }
  return result;
}
