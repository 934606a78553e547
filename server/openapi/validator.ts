// The JSON Schema validator of the admin and operator APIs' bodies: ajv's Ajv2020 (OpenAPI 3.1
// schemas are JSON Schema 2020-12) with the formats the route descriptions use. A factory, called
// once by the composition root (deps.ts); the tests make their own.
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { parseAddress } from '../scim/email-address';

/** An address mail can go to (scim/email-address.ts, the one address rule, issue 9); "" is left to `required`/minLength. */
export const EMAIL_ADDRESS_FORMAT = 'email-address';

export function createValidator(): Ajv2020 {
  // allErrors: a form shows every field at fault at once, not the first only; verbose: an error
  // keeps its schema, whose description says in words what a pattern means (openapi/describe.ts).
  const ajv = new Ajv2020({ allErrors: true, verbose: true, strict: true, strictRequired: false, allowUnionTypes: true });
  addFormats(ajv, ['date-time', 'uri', 'uuid']);
  ajv.addFormat(EMAIL_ADDRESS_FORMAT, { type: 'string', validate: (s: string) => s === '' || parseAddress(s).ok });
  return ajv;
}
