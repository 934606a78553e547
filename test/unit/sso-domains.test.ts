// Domain proofs (issue 9 point 7, server/sso/domains.ts): the shipped list of public mail domains,
// the record an admin publishes, and what an admin reads when it does not prove the claim — with
// a resolver injected here (the API test asks a DNS server on 127.0.0.1).
import { checkProof, isPublicMailDomain, newChallenge, proofRecord } from '../../server/sso/domains';
import { DnsLookupError, NameResolver } from '../../server/sso/network';

const txt = (answer: string[] | Error): NameResolver => ({
  addresses: async () => [],
  txt: async () => {
    if (answer instanceof Error) throw answer;
    return answer;
  },
});

describe('public mail domains', () => {
  it.each([
    ['gmail.com', true],
    ['googlemail.com', true],
    ['outlook.com', true],
    ['hotmail.com', true],
    ['yahoo.com', true],
    ['icloud.com', true],
    ['GMX.de', true],
    ['proton.me', true],
    ['gmail.com.', true],
    ['acme.com', false],
    ['eu.gmail.com', false],
    ['google.com', false],
    ['com.ar.example', false],
  ])('%s → %s', (domain, expected) => {
    expect(isPublicMailDomain(domain)).toBe(expected);
  });
});

describe('the proof record', () => {
  it('is a TXT record at _provisio-challenge.<domain> with 256 random bits', () => {
    const a = newChallenge();
    expect(a).toMatch(/^[\w-]{43}$/);
    expect(newChallenge()).not.toBe(a);
    expect(proofRecord('acme.com', a)).toEqual({ name: '_provisio-challenge.acme.com', type: 'TXT', value: `provisio-domain-verification=${a}` });
  });

  it.each<[string, string[] | Error, RegExp | true]>([
    ['the value among other records', ['v=spf1 -all', 'provisio-domain-verification=abc'], true],
    ['the value with surrounding spaces', [' provisio-domain-verification=abc '], true],
    ['no record', new DnsLookupError('notFound', '_provisio-challenge.acme.com: ENOTFOUND'), /^No TXT record was found at _provisio-challenge\.acme\.com/],
    ['another value', ['provisio-domain-verification=xyz'], /does not carry the expected value \(1 record found\)\. Its value must be exactly provisio-domain-verification=abc$/],
    ['a resolver that cannot be reached', new DnsLookupError('unavailable', '_provisio-challenge.acme.com: ECONNREFUSED'), /^The DNS could not be asked just now/],
    ['a resolver that fails oddly', new Error('boom'), /^The DNS could not be asked just now/],
  ])('%s', async (_name, answer, expected) => {
    const out = await checkProof(txt(answer), 'acme.com', 'abc');
    if (expected === true) return expect(out).toEqual({ ok: true });
    expect(out.ok).toBe(false);
    if (out.ok) return;
    expect(out.reason).toMatch(expected);
    // Words for the admin; the errno is for the log.
    expect(out.reason).not.toMatch(/ENOTFOUND|ECONNREFUSED|boom/);
  });
});
