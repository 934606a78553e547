// Proving that a tenant owns an email domain (issue 9 point 7, docs/sso.md "Proving your
// domains"). A claimed domain routes /login to the tenant's IdP for everyone only once the tenant
// published, in the domain's own DNS, a TXT record the server issued for that tenant and domain:
//
//   _provisio-challenge.<domain>  TXT  "provisio-domain-verification=<256 random bits>"
//
// Only whoever runs the domain's DNS can publish it, and the value is random per tenant and
// domain, so one tenant's record never proves another's claim. The record is read through the
// operator's resolver (DNS_SERVERS). Public mail domains (gmail.com, outlook.com, …) can never be
// claimed: nobody's organisation owns them, and claiming one would route strangers.
// Tests: test/unit/sso-domains.test.ts (the list, the record), test/api/sso-domains.test.ts
// (verification through a DNS server on 127.0.0.1).
import { randomBytes } from 'node:crypto';
import { DnsLookupError, NameResolver, egressDetail } from './network';

// email-providers (derhuerst/email-providers, ISC): a maintained list of about 8,700 public and
// free mail domains, shipped as JSON with no install script; all.json rather than common.json
// (355 names), since claiming any free-mail domain is as wrong as claiming gmail.com.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const PUBLIC_MAIL_DOMAINS: ReadonlySet<string> = new Set((require('email-providers/all.json') as string[]).map((d) => d.toLowerCase()));

/** The owner label of the proof record. */
export const CHALLENGE_LABEL = '_provisio-challenge';
const VALUE_PREFIX = 'provisio-domain-verification=';

/**
 * Whether this is a public mail domain nobody may claim. Exact names only: the list holds shared
 * suffixes such as com.ar, so a parent match would refuse every company under them.
 */
export function isPublicMailDomain(domain: string): boolean {
  return PUBLIC_MAIL_DOMAINS.has(domain.toLowerCase().replace(/\.$/, ''));
}

/** A fresh challenge for one tenant's claim of one domain: 256 random bits. */
export function newChallenge(): string {
  return randomBytes(32).toString('base64url');
}

/** The DNS record that proves the claim, as an admin adds it. */
export function proofRecord(domain: string, challenge: string): { name: string; type: 'TXT'; value: string } {
  return { name: `${CHALLENGE_LABEL}.${domain}`, type: 'TXT', value: `${VALUE_PREFIX}${challenge}` };
}

export type ProofCheck = { ok: true } | { ok: false; reason: string; log: string };

/**
 * Looks the record up and says, in words for the admin, what is wrong if it does not prove the
 * claim: no record, another value, or a resolver that could not be asked. No errno or resolver
 * address is in the reason (the log gets them).
 */
export async function checkProof(resolver: NameResolver, domain: string, challenge: string): Promise<ProofCheck> {
  const record = proofRecord(domain, challenge);
  let values: string[];
  try {
    values = await resolver.txt(record.name);
  } catch (err) {
    if (err instanceof DnsLookupError && err.kind === 'notFound') {
      return { ok: false, reason: `No TXT record was found at ${record.name}. Add it with the value shown in "record", wait until your DNS provider publishes it, and ask again.`, log: egressDetail(err) };
    }
    return { ok: false, reason: 'The DNS could not be asked just now (no answer from the resolver). Try again in a few minutes.', log: egressDetail(err) };
  }
  if (values.some((v) => v.trim() === record.value)) return { ok: true };
  return {
    ok: false,
    reason: `The TXT record at ${record.name} does not carry the expected value (${values.length} record${values.length === 1 ? '' : 's'} found). Its value must be exactly ${record.value}`,
    log: `${values.length} TXT records, none with the value`,
  };
}
