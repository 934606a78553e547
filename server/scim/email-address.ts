// The one rule for an email address the server may send mail to (issue 9, point 14). Pure: no
// I/O, no DNS. Every write path that stores such an address checks it here (SCIM userName when
// it holds an '@', the Provisio User extension's credentialsEmail and notificationEmail, the
// tenant setting credentialsEmail, the operator's adminEmail), and the outbox checks the
// recipient once more with the same function (mail/outbox.ts), so a value the write paths let
// through can never become a 500 at enqueue time. test/unit/address.test.ts holds the table.
//
// The rule is RFC 5321/5322 as mail is actually exchanged, not the full grammar:
// - exactly one '@'; the local part a dot-atom (RFC 5322 §3.2.3 atext, dots only between atoms),
//   at most 64 octets (RFC 5321 §4.5.3.1.1);
// - the domain a host name of at least two labels, each 1–63 letters, digits and hyphens, not
//   starting or ending with a hyphen (RFC 1035 §2.3.1, RFC 5321 §4.1.2), the last one not all
//   digits (RFC 3696 §2: that is an IPv4 address, not a name), at most 253 octets;
// - an internationalised domain (bücher.example) is accepted and sent as its A-labels
//   (xn--bcher-kva.example, RFC 5890/5891 via UTS #46), which every relay understands; an 'xn--'
//   label must decode;
// - the whole address at most 254 octets (RFC 5321 §4.5.3.1.3's 256-octet path less '<' '>').
// Refused on purpose, though RFC 5322 has them: quoted local parts ("a b"@x) and comments, which
// exist to carry spaces, '@' and quotes, that is, text that can change what a header means;
// domain literals ([192.0.2.1]), which bypass the name an operator can see; a non-ASCII local
// part, which needs SMTPUTF8 (RFC 6531) of every relay on the way; a trailing dot; any white
// space or control character, also at the ends (a value is not trimmed: what is stored is what
// is checked).

import { domainToASCII } from 'node:url';
import { invalidValue, ScimError } from '../errors';

export const MAX_ADDRESS = 254;
export const MAX_LOCAL_PART = 64;
export const MAX_DOMAIN = 253;
export const MAX_LABEL = 63;

export type ParsedAddress =
  | {
      ok: true;
      /** The address to send to: as given, except an international domain in A-labels. */
      address: string;
      local: string;
      /** The domain in lower case, in A-labels. */
      domain: string;
    }
  | { ok: false; reason: string };

// RFC 5322 §3.2.3: atext, and a dot-atom is atoms joined by single dots.
const ATOM = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+$/;
const LABEL = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;
// White space of any kind, control characters (Cc) and invisible format characters (Cf: zero-width
// space, bidi overrides), which would make the stored value differ from what a person reads.
const SPACE_OR_CONTROL = /[\s\p{Cc}\p{Cf}]/u;
const NON_ASCII = /[^\u0000-\u007f]/;

const octets = (s: string) => Buffer.byteLength(s, 'utf8');
const refuse = (reason: string): ParsedAddress => ({ ok: false, reason });

/** Checks one address; `ok: false` carries why, in words fit for an API error detail. */
export function parseAddress(value: unknown): ParsedAddress {
  if (typeof value !== 'string') return refuse('must be a string');
  if (value === '') return refuse('is empty');
  if (SPACE_OR_CONTROL.test(value)) return refuse('must not contain spaces, line breaks, control or invisible characters');
  const at = value.indexOf('@');
  if (at === -1) return refuse("has no '@'");
  if (value.indexOf('@', at + 1) !== -1) return refuse("must contain exactly one '@'");
  const local = value.slice(0, at);
  const rawDomain = value.slice(at + 1);
  if (local === '') return refuse("has nothing before the '@'");
  if (rawDomain === '') return refuse("has no domain after the '@'");

  if (local.startsWith('"')) return refuse('must not use a quoted local part');
  if (NON_ASCII.test(local)) return refuse("must have an ASCII part before the '@' (international local parts need SMTPUTF8)");
  if (octets(local) > MAX_LOCAL_PART) return refuse(`must have at most ${MAX_LOCAL_PART} characters before the '@'`);
  if (!local.split('.').every((atom) => atom !== '')) return refuse("must not start or end with a dot, or have two dots in a row, before the '@'");
  if (!local.split('.').every((atom) => ATOM.test(atom))) return refuse("has a character not allowed before the '@' (letters, digits and !#$%&'*+-/=?^_`{|}~ only)");

  if (rawDomain.startsWith('[')) return refuse('must name a domain, not an IP address literal');
  // Checked in lower case; sent as given when ASCII (DNS ignores case), as A-labels otherwise.
  let domain = rawDomain.toLowerCase();
  let sendTo = rawDomain;
  if (NON_ASCII.test(domain)) {
    // UTS #46 (the WHATWG URL host rules Node implements): maps case and width, then IDNA-encodes.
    // An empty answer means the name cannot be encoded.
    const ascii = domainToASCII(rawDomain);
    if (ascii === '') return refuse('has an international domain name that cannot be encoded (IDNA)');
    domain = sendTo = ascii;
  }
  if (domain.endsWith('.')) return refuse('must not end with a dot');
  const labels = domain.split('.');
  if (labels.length < 2) return refuse('must have a domain of at least two labels (example.com, not localhost)');
  for (const label of labels) {
    if (label === '') return refuse('must not have an empty label (two dots in a row, or a leading dot) in its domain');
    if (label.length > MAX_LABEL) return refuse(`must not have a domain label longer than ${MAX_LABEL} characters`);
    if (!LABEL.test(label)) return refuse('must have a domain of letters, digits and hyphens, no label starting or ending with a hyphen');
  }
  if (/^[0-9]+$/.test(labels[labels.length - 1])) return refuse('must have a domain whose last label is not all digits (an IP address is not accepted)');
  // An A-label given as is must be valid Punycode of a valid name (RFC 5891 §5.4).
  if (labels.some((l) => l.startsWith('xn--')) && domainToASCII(domain) !== domain) return refuse("has a domain label starting with 'xn--' that is not a valid international name");
  if (domain.length > MAX_DOMAIN) return refuse(`must have a domain of at most ${MAX_DOMAIN} characters`);
  const address = `${local}@${sendTo}`;
  if (address.length > MAX_ADDRESS) return refuse(`must be at most ${MAX_ADDRESS} characters long`);
  return { ok: true, address, local, domain };
}

/**
 * The address to send to, or the API error (400 invalidValue) naming `attribute`; `why` says
 * why the value must be an address when that is not obvious (a userName holding an '@').
 */
export function requireAddress(attribute: string, value: unknown, why = ''): string {
  const parsed = parseAddress(value);
  if (!parsed.ok) throw addressError(attribute, parsed.reason, why);
  return parsed.address;
}

export function addressError(attribute: string, reason: string, why = ''): ScimError {
  return invalidValue(`${attribute}${why} must be an email address the server can send mail to: it ${reason}`);
}
