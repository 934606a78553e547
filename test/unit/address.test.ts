// The email-address rule (server/scim/email-address.ts): what is accepted, how it is normalised for
// sending, and what is refused with which reason.
import { MAX_ADDRESS, parseAddress, requireAddress } from '../../server/scim/email-address';
import { ScimError } from '../../server/errors';

const label63 = 'a'.repeat(63);

describe('accepted, with the address the server sends to', () => {
  it.each([
    ['ada@acme.example', 'ada@acme.example'],
    ['Ada.Lovelace@Acme.Example', 'Ada.Lovelace@Acme.Example'], // kept as given: nothing to gain from changing case
    ['ada+scim@acme.example', 'ada+scim@acme.example'],
    ["o'brien@acme.example", "o'brien@acme.example"],
    ["!#$%&'*+-/=?^_`{|}~@acme.example", "!#$%&'*+-/=?^_`{|}~@acme.example"], // every atext character
    ['a@b.co', 'a@b.co'],
    ['first.middle.last@sub.dept.acme.example', 'first.middle.last@sub.dept.acme.example'],
    ['a@a-b.example', 'a@a-b.example'],
    ['a@123.example', 'a@123.example'], // digits-only labels are fine, except the last one
    ['a@acme.xn--zckzah', 'a@acme.xn--zckzah'], // an A-label TLD given as is
    ['hans@bücher.example', 'hans@xn--bcher-kva.example'], // IDN domain sent as A-labels
    ['hans@BÜCHER.example', 'hans@xn--bcher-kva.example'],
    ['hans@xn--bcher-kva.example', 'hans@xn--bcher-kva.example'],
    ['yuki@例え.テスト', 'yuki@xn--r8jz45g.xn--zckzah'],
    [`${'l'.repeat(64)}@acme.example`, `${'l'.repeat(64)}@acme.example`], // local part at its 64 limit
    [`a@${label63}.example`, `a@${label63}.example`], // a label at its 63 limit
  ])('%s → %s', (input, address) => {
    const r = parseAddress(input);
    expect(r).toMatchObject({ ok: true, address });
  });

  it('accepts an address of exactly 254 characters', () => {
    // 64 + '@' + 63.63.61 (189) = 254
    const addr = `${'l'.repeat(64)}@${label63}.${label63}.${'c'.repeat(61)}`;
    expect(addr.length).toBe(MAX_ADDRESS);
    expect(parseAddress(addr)).toMatchObject({ ok: true, address: addr });
  });
});

describe('refused, with the reason', () => {
  it.each([
    // The three of issue 9 that used to answer 500.
    ['bad@', /no domain after the '@'/],
    ['x y@acme.example', /spaces/],
    ['two@@acme.example', /exactly one '@'/],
    // Shape.
    ['', /empty/],
    ['ada', /no '@'/],
    ['@acme.example', /nothing before the '@'/],
    ['a@b@acme.example', /exactly one '@'/],
    [' ada@acme.example', /spaces/], // not trimmed: what is stored is what is checked
    ['ada@acme.example\n', /line breaks/],
    ['ada@acme.example\r\nBcc: x@evil.example', /line breaks/], // header injection
    ['ada\u0000@acme.example', /control/],
    ['ada@acme\u200b.example', /invisible/], // zero-width space
    ['ada\u202e@acme.example', /invisible/], // right-to-left override
    ['ada\u00a0@acme.example', /spaces/], // no-break space
    // Local part.
    ['.ada@acme.example', /dot/],
    ['ada.@acme.example', /dot/],
    ['a..da@acme.example', /two dots in a row/],
    ['"ada"@acme.example', /quoted local part/],
    ['"a b"@acme.example', /spaces/],
    ['ada(comment)@acme.example', /character not allowed/],
    ['a,b@acme.example', /character not allowed/],
    ['a<b>@acme.example', /character not allowed/],
    ['a;b@acme.example', /character not allowed/],
    ['a\\b@acme.example', /character not allowed/],
    ['jürgen@acme.example', /ASCII part before the '@'/],
    [`${'l'.repeat(65)}@acme.example`, /at most 64 characters before/],
    // Domain.
    ['ada@localhost', /at least two labels/],
    ['ada@acme', /at least two labels/],
    ['ada@acme.example.', /end with a dot/],
    ['ada@.acme.example', /empty label/],
    ['ada@acme..example', /empty label/],
    ['ada@-acme.example', /hyphen/],
    ['ada@acme-.example', /hyphen/],
    ['ada@ac_me.example', /letters, digits and hyphens/],
    ['ada@acme.example:25', /letters, digits and hyphens/],
    ['ada@acme.example/x', /letters, digits and hyphens/],
    [`ada@${'a'.repeat(64)}.example`, /label longer than 63/],
    ['ada@192.0.2.1', /last label is not all digits/],
    ['ada@[192.0.2.1]', /IP address literal/],
    ['ada@[IPv6:2001:db8::1]', /IP address literal/],
    ['ada@１９２.０.２.１', /last label is not all digits/], // full-width digits map to an IPv4 address
    ['ada@xn--zz.example', /'xn--' that is not a valid/],
    ['ada@bü_cher.example', /letters, digits and hyphens|cannot be encoded/],
    // Lengths.
    [`a@${label63}.${label63}.${label63}.${label63}.example`, /domain of at most 253/],
    [`${'l'.repeat(64)}@${label63}.${label63}.${'c'.repeat(62)}`, /at most 254 characters/],
  ])('%j', (input, reason) => {
    const r = parseAddress(input);
    expect(r.ok).toBe(false);
    expect(r.ok === false && r.reason).toMatch(reason);
  });

  it.each([[undefined], [null], [42], [['a@b.example']], [{ value: 'a@b.example' }]])('a value that is not a string: %j', (v) => {
    expect(parseAddress(v)).toEqual({ ok: false, reason: 'must be a string' });
  });
});

describe('requireAddress', () => {
  it('returns the address to send to', () => {
    expect(requireAddress('credentialsEmail', 'it@Bücher.example')).toBe('it@xn--bcher-kva.example');
  });

  it('throws 400 invalidValue naming the attribute and the reason', () => {
    let err: unknown;
    try {
      requireAddress('credentialsEmail', 'two@@acme.example');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ScimError);
    expect(err).toMatchObject({ status: 400, scimType: 'invalidValue' });
    expect((err as Error).message).toBe("credentialsEmail must be an email address the server can send mail to: it must contain exactly one '@'");
  });
});
