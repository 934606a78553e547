// parseFilter (server/scim/filter.ts): RFC 7644 §3.4.2.2 grammar, precedence and the forms real
// clients send (docs/okta.md, docs/entra.md). Each case notes where it comes from.
import { CompareOp, CompValue, Filter, MAX_FILTER_LENGTH, parseFilter } from '../../server/scim/filter';
import { expectScimError } from './helpers';

const cmp = (path: string, op: CompareOp, value: CompValue): Filter => ({ kind: 'compare', path, op, value });
const pr = (path: string): Filter => ({ kind: 'present', path });
const and = (left: Filter, right: Filter): Filter => ({ kind: 'and', left, right });
const or = (left: Filter, right: Filter): Filter => ({ kind: 'or', left, right });
const not = (filter: Filter): Filter => ({ kind: 'not', filter });
const vp = (path: string, filter: Filter): Filter => ({ kind: 'valuePath', path, filter });

const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const CORE = 'urn:ietf:params:scim:schemas:core:2.0:User';

describe('operators (RFC 7644 §3.4.2.2, Table 3)', () => {
  it.each<[string, string, Filter]>([
    ['eq', 'userName eq "bjensen"', cmp('userName', 'eq', 'bjensen')],
    ['ne', 'userType ne "Employee"', cmp('userType', 'ne', 'Employee')],
    ['co', 'name.familyName co "O\'Malley"', cmp('name.familyName', 'co', "O'Malley")],
    ['sw', 'userName sw "J"', cmp('userName', 'sw', 'J')],
    ['ew', 'userName ew "@example.com"', cmp('userName', 'ew', '@example.com')],
    ['gt', 'meta.lastModified gt "2011-05-13T04:42:34Z"', cmp('meta.lastModified', 'gt', '2011-05-13T04:42:34Z')],
    ['ge', 'meta.lastModified ge "2011-05-13T04:42:34Z"', cmp('meta.lastModified', 'ge', '2011-05-13T04:42:34Z')],
    ['lt', 'meta.lastModified lt "2011-05-13T04:42:34Z"', cmp('meta.lastModified', 'lt', '2011-05-13T04:42:34Z')],
    ['le', 'meta.lastModified le "2011-05-13T04:42:34Z"', cmp('meta.lastModified', 'le', '2011-05-13T04:42:34Z')],
    ['pr', 'title pr', pr('title')],
  ])('%s', (_op, input, expected) => {
    expect(parseFilter(input)).toEqual(expected);
  });
});

describe('case-insensitive keywords and operators (RFC 7644 §3.4.2.2: "case insensitive")', () => {
  it.each<[string, string, Filter]>([
    ['upper-case operator', 'userName EQ "x"', cmp('userName', 'eq', 'x')],
    ['mixed-case operator', 'userName Sw "x"', cmp('userName', 'sw', 'x')],
    ['upper-case pr', 'title PR', pr('title')],
    ['upper-case AND / OR', 'a eq 1 AND b eq 2 OR c eq 3', or(and(cmp('a', 'eq', 1), cmp('b', 'eq', 2)), cmp('c', 'eq', 3))],
    ['upper-case NOT', 'NOT (a eq 1)', not(cmp('a', 'eq', 1))],
    ['TRUE / False / NULL literals', 'a eq TRUE and b eq False and c eq NULL', and(and(cmp('a', 'eq', true), cmp('b', 'eq', false)), cmp('c', 'eq', null))],
    ['attribute name case is kept for resolution later', 'USERNAME eq "x"', cmp('USERNAME', 'eq', 'x')],
  ])('%s', (_note, input, expected) => {
    expect(parseFilter(input)).toEqual(expected);
  });
});

describe('precedence: not > and > or, parentheses (RFC 7644 §3.4.2.2, Table 4)', () => {
  it.each<[string, string, Filter]>([
    ['and binds tighter than or (left)', 'a eq 1 or b eq 2 and c eq 3', or(cmp('a', 'eq', 1), and(cmp('b', 'eq', 2), cmp('c', 'eq', 3)))],
    ['and binds tighter than or (right)', 'a eq 1 and b eq 2 or c eq 3', or(and(cmp('a', 'eq', 1), cmp('b', 'eq', 2)), cmp('c', 'eq', 3))],
    ['parentheses override', '(a eq 1 or b eq 2) and c eq 3', and(or(cmp('a', 'eq', 1), cmp('b', 'eq', 2)), cmp('c', 'eq', 3))],
    ['not binds tighter than and', 'not (a eq 1) and b eq 2', and(not(cmp('a', 'eq', 1)), cmp('b', 'eq', 2))],
    ['not applies to a whole group', 'not (a eq 1 or b eq 2)', not(or(cmp('a', 'eq', 1), cmp('b', 'eq', 2)))],
    ['and is left-associative', 'a eq 1 and b eq 2 and c eq 3', and(and(cmp('a', 'eq', 1), cmp('b', 'eq', 2)), cmp('c', 'eq', 3))],
    ['or is left-associative', 'a eq 1 or b eq 2 or c eq 3', or(or(cmp('a', 'eq', 1), cmp('b', 'eq', 2)), cmp('c', 'eq', 3))],
    ['redundant parentheses', '((a eq 1))', cmp('a', 'eq', 1)],
    ['not without space before "("', 'not(a eq 1)', not(cmp('a', 'eq', 1))],
    ['nested not', 'not (not (a pr))', not(not(pr('a')))],
    ['whitespace: tabs and newlines', 'a eq 1\tand\nb eq 2', and(cmp('a', 'eq', 1), cmp('b', 'eq', 2))],
  ])('%s', (_note, input, expected) => {
    expect(parseFilter(input)).toEqual(expected);
  });
});

describe('values: JSON strings, numbers, true/false/null (RFC 7644 §3.4.2.2 compValue)', () => {
  it.each<[string, string, CompValue]>([
    ['escaped quote', 'a eq "say \\"hi\\""', 'say "hi"'],
    ['escaped backslash', 'a eq "C:\\\\dir"', 'C:\\dir'],
    ['unicode escape', 'a eq "caf\\u00e9"', 'café'],
    ['newline escape', 'a eq "a\\nb"', 'a\nb'],
    ['empty string', 'a eq ""', ''],
    ['string with keywords and brackets', 'a eq "x and (y) or [z]"', 'x and (y) or [z]'],
    ['integer', 'a eq 42', 42],
    ['negative integer', 'a gt -5', -5],
    ['decimal', 'a lt 3.25', 3.25],
    ['exponent', 'a le 1e3', 1000],
    ['true', 'a eq true', true],
    ['false', 'a eq false', false],
    ['null', 'a eq null', null],
    ['Entra compares booleans as strings: primary eq "True" stays a string', 'a eq "True"', 'True'],
  ])('%s', (_note, input, value) => {
    const f = parseFilter(input);
    expect(f).toEqual({ kind: 'compare', path: 'a', op: expect.any(String), value });
  });
});

describe('attribute paths (RFC 7644 §3.10 attribute notation)', () => {
  it.each<[string, string, Filter]>([
    ['sub-attribute', 'name.givenName eq "Barbara"', cmp('name.givenName', 'eq', 'Barbara')],
    ['core URN-qualified', `${CORE}:userName eq "x"`, cmp(`${CORE}:userName`, 'eq', 'x')],
    ['core URN-qualified sub-attribute (RFC 7644 §3.4.2.2 example)', `${CORE}:name.familyName co "O'Malley"`, cmp(`${CORE}:name.familyName`, 'co', "O'Malley")],
    ['enterprise extension attribute', `${ENT}:employeeNumber eq "1"`, cmp(`${ENT}:employeeNumber`, 'eq', '1')],
    ['enterprise extension sub-attribute', `${ENT}:manager.value eq "m-1"`, cmp(`${ENT}:manager.value`, 'eq', 'm-1')],
    ['URN in any case', `URN:IETF:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber pr`, pr('URN:IETF:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber')],
    ['$ref sub-attribute', 'members.$ref pr', pr('members.$ref')],
    ['attribute names with digits, "-" and "_"', 'x509Certificates.value pr and a_b-c pr', and(pr('x509Certificates.value'), pr('a_b-c'))],
  ])('%s', (_note, input, expected) => {
    expect(parseFilter(input)).toEqual(expected);
  });
});

describe('value paths (RFC 7644 §3.4.2.2 valuePath) and Entra\'s `[…].sub eq` form', () => {
  it.each<[string, string, Filter]>([
    ['single condition', 'emails[type eq "work"]', vp('emails', cmp('type', 'eq', 'work'))],
    [
      'and inside brackets (RFC 7644 §3.4.2.2 example)',
      'emails[type eq "work" and value co "@example.com"]',
      vp('emails', and(cmp('type', 'eq', 'work'), cmp('value', 'co', '@example.com'))),
    ],
    ['or and not inside brackets', 'emails[not (type eq "work") or primary eq true]', vp('emails', or(not(cmp('type', 'eq', 'work')), cmp('primary', 'eq', true)))],
    ['pr inside brackets', 'emails[display pr]', vp('emails', pr('display'))],
    ['Okta members remove path used as filter', 'members[value eq "2819c223"]', vp('members', cmp('value', 'eq', '2819c223'))],
    [
      'Entra: emails[type eq "work"].value eq "x" reads as one element matching both',
      'emails[type eq "work"].value eq "x@example.com"',
      vp('emails', and(cmp('type', 'eq', 'work'), cmp('value', 'eq', 'x@example.com'))),
    ],
    [
      'Entra form combined with and (idp-interop.md: matching filters combined with and)',
      'userName eq "a" and emails[type eq "work"].value eq "b"',
      and(cmp('userName', 'eq', 'a'), vp('emails', and(cmp('type', 'eq', 'work'), cmp('value', 'eq', 'b')))),
    ],
    ['Entra form with pr', 'phoneNumbers[type eq "mobile"].value pr', vp('phoneNumbers', and(cmp('type', 'eq', 'mobile'), pr('value')))],
    ['Entra role filter compares primary as a string', 'roles[primary eq "True"]', vp('roles', cmp('primary', 'eq', 'True'))],
    ['URN-qualified value path', `${ENT}:manager[value eq "m"]`, vp(`${ENT}:manager`, cmp('value', 'eq', 'm'))],
  ])('%s', (_note, input, expected) => {
    expect(parseFilter(input)).toEqual(expected);
  });
});

describe('RFC 7644 §3.4.2.2 example filters', () => {
  it.each<[string, Filter]>([
    ['userName eq "bjensen"', cmp('userName', 'eq', 'bjensen')],
    ['name.familyName co "O\'Malley"', cmp('name.familyName', 'co', "O'Malley")],
    ['userName sw "J"', cmp('userName', 'sw', 'J')],
    [`${CORE}:userName sw "J"`, cmp(`${CORE}:userName`, 'sw', 'J')],
    ['title pr', pr('title')],
    ['meta.lastModified gt "2011-05-13T04:42:34Z"', cmp('meta.lastModified', 'gt', '2011-05-13T04:42:34Z')],
    ['title pr and userType eq "Employee"', and(pr('title'), cmp('userType', 'eq', 'Employee'))],
    ['title pr or userType eq "Intern"', or(pr('title'), cmp('userType', 'eq', 'Intern'))],
    [`schemas eq "${ENT}"`, cmp('schemas', 'eq', ENT)],
    [
      'userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")',
      and(cmp('userType', 'eq', 'Employee'), or(cmp('emails', 'co', 'example.com'), cmp('emails.value', 'co', 'example.org'))),
    ],
    [
      'userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")',
      and(cmp('userType', 'ne', 'Employee'), not(or(cmp('emails', 'co', 'example.com'), cmp('emails.value', 'co', 'example.org')))),
    ],
    ['userType eq "Employee" and (emails.type eq "work")', and(cmp('userType', 'eq', 'Employee'), cmp('emails.type', 'eq', 'work'))],
    [
      'userType eq "Employee" and emails[type eq "work" and value co "@example.com"]',
      and(cmp('userType', 'eq', 'Employee'), vp('emails', and(cmp('type', 'eq', 'work'), cmp('value', 'co', '@example.com')))),
    ],
    [
      'emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]',
      or(
        vp('emails', and(cmp('type', 'eq', 'work'), cmp('value', 'co', '@example.com'))),
        vp('ims', and(cmp('type', 'eq', 'xmpp'), cmp('value', 'co', '@foo.com'))),
      ),
    ],
  ])('%s', (input, expected) => {
    expect(parseFilter(input)).toEqual(expected);
  });
});

describe('invalid filters are 400 invalidFilter (RFC 7644 §3.4.2.2, §3.12 Table 9)', () => {
  it.each<[string, string]>([
    ['empty', ''],
    ['only whitespace', '   '],
    ['unterminated string', 'userName eq "abc'],
    ['unterminated string ending in an escaped quote', 'userName eq "abc\\"'],
    ['invalid JSON escape', 'userName eq "a\\qb"'],
    ['single-quoted string', "userName eq 'x'"],
    ['missing value', 'userName eq'],
    ['missing value before and', 'userName eq and title pr'],
    ['bare word as value', 'userName eq bjensen'],
    ['unknown operator', 'userName is "x"'],
    ['operator missing', 'userName "x"'],
    ['dangling and', 'userName eq "x" and'],
    ['dangling or', 'userName eq "x" or'],
    ['leading and', 'and userName eq "x"'],
    ['not without parentheses', 'not userName eq "x"'],
    ['empty parentheses', '()'],
    ['unbalanced "("', '(userName eq "x"'],
    ['unbalanced ")"', 'userName eq "x")'],
    ['two expressions without a logical operator', 'userName eq "x" title pr'],
    ['nested value path', 'emails[type[value eq "x"]]'],
    ['"[" without "]"', 'emails[type eq "work"'],
    ['"]" without "["', 'emails type eq "work"]'],
    ['empty value path', 'emails[]'],
    ['URN-qualified name inside a value path', `emails[${CORE}:type eq "work"]`],
    ['dotted name inside a value path', 'emails[type.value eq "work"]'],
    ['invalid sub-attribute after a value path', 'emails[type eq "work"].1x eq "a"'],
    ['value path followed by another bracket', 'emails[type eq "work"][value pr]'],
    ['attribute starting with a digit', '1abc eq "x"'],
    ['unexpected character', 'userName eq "x" & title pr'],
    ['number where an attribute is expected', '5 eq 5'],
    ['too long', `userName eq "${'a'.repeat(MAX_FILTER_LENGTH)}"`],
    ['nested too deeply', '('.repeat(100) + 'a pr' + ')'.repeat(100)],
  ])('%s', (_note, input) => {
    expectScimError(() => parseFilter(input), 400, 'invalidFilter');
  });

  it('accepts a filter of exactly the maximum length', () => {
    const head = 'userName eq "';
    const input = head + 'a'.repeat(MAX_FILTER_LENGTH - head.length - 1) + '"';
    expect(input).toHaveLength(MAX_FILTER_LENGTH);
    expect(parseFilter(input)).toMatchObject({ kind: 'compare', path: 'userName' });
  });

  it('names the position of the problem', () => {
    const e = expectScimError(() => parseFilter('userName eq "x" and title zz "y"'), 400, 'invalidFilter');
    expect(e.message).toMatch(/zz/);
    expect(e.message).toMatch(/position 27/);
  });
});
