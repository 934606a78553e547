// The group-kind rules' glob matcher (server/resources/glob.ts): its meaning, table by table,
// and its linear cost, counted in elementary steps (never timed).
import { compileGlob, compilePrefix, foldCodePoint, foldText, globMatches, matchFolded, StepCounter } from '../../server/resources/glob';
import { kindByRules, KindRule } from '../../server/resources/group-rules';

describe('meaning', () => {
  it.each([
    // Anchors: the whole name must match.
    ['Acme', 'Acme', true],
    ['Acme', 'Acme Ltd', false],
    ['Acme', 'The Acme', false],
    ['', '', true],
    ['', 'x', false],
    // '*': any run, also none, also line breaks.
    ['*', '', true],
    ['*', 'anything at all', true],
    ['Acme*', 'Acme', true],
    ['Acme*', 'Acme Ltd', true],
    ['Acme*', 'The Acme', false],
    ['*Ltd', 'Acme Ltd', true],
    ['*Ltd', 'Acme Ltd.', false],
    ['*-SA-*', 'EU-SA-Paris', true],
    ['*-SA-*', 'EU-SA', false],
    ['a*b*c', 'abc', true],
    ['a*b*c', 'aXbYc', true],
    ['a*b*c', 'acb', false],
    ['a*b*c', 'abcbc', true],
    ['a*a', 'a', false], // head and tail may not overlap
    ['a*a', 'aa', true],
    ['ab*ba', 'aba', false],
    ['ab*ba', 'abba', true],
    ['*x*', 'line one\nline x\n', true],
    ['a*b', 'a\nb', true],
    // Runs of '*' and empty segments.
    ['**', '', true],
    ['a**b', 'ab', true],
    ['a***b', 'aXYZb', true],
    ['***', 'abc', true],
    ['*a**', 'bab', true],
    ['*a**', 'bbb', false],
    // '?': exactly one character.
    ['?', '', false],
    ['?', 'x', true],
    ['?', 'xy', false],
    ['Team-??', 'Team-42', true],
    ['Team-??', 'Team-4', false],
    ['Team-??', 'Team-420', false],
    ['*?', '', false],
    ['*?', 'a', true],
    ['?*?', 'a', false],
    ['?*?', 'ab', true],
    ['*a?c*', 'xxabcxx', true],
    ['*a?c*', 'xxacxx', false],
    ['*a?c*', 'aac', true],
    ['*aab*', 'aaab', true], // a restart inside a run (naive searches that skip ahead miss it)
    ['*a?a?b*', 'aaaaab', true],
    ['*ab?d*ef', 'abXdabcdef', true],
    ['*ab?d*ef', 'abXdef', true],
    ['*ab?d*ef', 'abXdf', false],
    ['?', '😀', true], // one code point is one character
    ['??', '😀', false],
    ['*😀*', 'a😀b', true],
    // Case folding, ASCII and not.
    ['ACME*', 'acme ltd', true],
    ['acme*', 'ACME LTD', true],
    ['*société*', 'LA SOCIÉTÉ GÉNÉRALE', true],
    ['ΟΔΥΣΣΕΥΣ', 'οδυσσευς', true], // final sigma folds with sigma
    ['straße', 'STRAẞE', true], // capital sharp s
    ['straße', 'STRASSE', false], // full folding (ß → ss) changes lengths; simple folding does not
    ['ǅ*', 'ǆungla', true], // title-case digraph
    ['k', '\u212a', true], // Kelvin sign
    ['İstanbul', 'İSTANBUL', true],
    ['?stanbul', 'İstanbul', true],
    // Every other character is itself: regular-expression syntax included.
    ['a.c', 'a.c', true],
    ['a.c', 'abc', false],
    ['a+', 'a+', true],
    ['a+', 'aa', false],
    ['(x)', '(x)', true],
    ['(x)', 'x', false],
    ['[ab]', '[ab]', true],
    ['[ab]', 'a', false],
    ['a\\b', 'a\\b', true],
    ['a\\*', 'a\\xyz', true], // no escapes: '\' is a character, '*' still a wildcard
    ['^a$', '^a$', true],
    ['^a$', 'a', false],
    ['a|b', 'a', false],
    ['a{2}', 'aa', false],
    ['.*', 'anything', false],
    ['.*', '.xyz', true],
  ])('%j ~ %j → %s', (pattern, text, expected) => {
    expect(globMatches(pattern, text)).toBe(expected);
  });

  it.each([
    ['Sub ', 'sub Paris', true],
    ['Sub ', 'Subway', false],
    ['*', '*star', true], // a prefix is literal: '*' and '?' are characters there
    ['*', 'star', false],
    ['a?', 'a?b', true],
    ['a?', 'ab', false],
    ['', 'anything', true],
  ])('prefix %j of %j → %s', (prefix, text, expected) => {
    expect(matchFolded(compilePrefix(prefix), foldText(text))).toBe(expected);
  });

  it('folds one code point to one code point (so folding never changes a length)', () => {
    for (const cp of [0x41, 0x7a, 0xc9, 0x130, 0x131, 0xdf, 0x1e9e, 0x3a3, 0x3c2, 0x1c5, 0x212a, 0xfb01, 0x1f600, 0x10400]) {
      expect(Array.from(String.fromCodePoint(foldCodePoint(cp)))).toHaveLength(1);
    }
    expect(foldCodePoint(0x10400)).toBe(0x10428); // Deseret capital long I, outside the BMP
  });

  it('kindByRules: the first matching rule wins, prefixes and patterns alike', () => {
    const rules: KindRule[] = [
      { kind: 'company', pattern: '*(Company)' },
      { kind: 'subAccount', prefix: 'SA-' },
      { kind: 'subAccount', pattern: 'Region ?? *' },
    ];
    expect(kindByRules(rules, 'Acme (company)')).toBe('company');
    expect(kindByRules(rules, 'sa-Paris')).toBe('subAccount');
    expect(kindByRules(rules, 'Region 12 North')).toBe('subAccount');
    expect(kindByRules(rules, 'Region 1 North')).toBeUndefined();
    expect(kindByRules(rules, 'Acme Company')).toBeUndefined();
  });
});

describe('cost: linear in the name, counted in steps', () => {
  const words = (pattern: string) => Math.max(1, ...pattern.split('*').map((s) => Math.ceil(Array.from(s).length / 32)));
  /**
   * The bound the matcher promises: c·(n·w + m) per rule, for a name of n characters, a pattern
   * of m characters whose longest segment needs w words of 32 bits (compiling a segment's masks
   * takes at most w per distinct character, so m·w for preparation).
   */
  const bound = (rules: string[], n: number, c = 4) => c * rules.reduce((sum, p) => sum + words(p) * (n + Array.from(p).length) + Array.from(p).length, 0);

  const adversarial: [string, string[], string][] = [
    // Backtracking engines take exponential time on these (RegExp `^.*a.*a….*b$`).
    ['*a*a*…*b against a run of a', Array.from({ length: 100 }, () => `${'*a'.repeat(99)}*b`), 'a'.repeat(256)],
    ['*a*a*…*b*a, the tail matching so the middle is searched', Array.from({ length: 100 }, () => `${'*a'.repeat(98)}*b*a`), 'a'.repeat(256)],
    ['*a?*…*b with ? in every segment', Array.from({ length: 100 }, () => `${'*a?'.repeat(66)}*b`), 'a'.repeat(256)],
    ['one long segment of 197 a then b', Array.from({ length: 100 }, () => `*${'a'.repeat(197)}b*`), 'a'.repeat(256)],
    ['long segments of ? and a', Array.from({ length: 100 }, () => `*${'a?'.repeat(49)}b*${'a'.repeat(99)}`), 'a'.repeat(256)],
    ['an exact pattern of 200', Array.from({ length: 100 }, () => 'a'.repeat(199) + 'b'), 'a'.repeat(256)],
    ['non-ASCII folding', Array.from({ length: 100 }, () => `${'*É'.repeat(99)}*Z`), 'é'.repeat(256)],
  ];

  it.each(adversarial)('%s: 100 rules × ≤ 200 characters, a 256-character name', (_name, patterns, text) => {
    for (const p of patterns) expect(Array.from(p).length).toBeLessThanOrEqual(200);
    const counter: StepCounter = { steps: 0 };
    const folded = foldText(text, counter);
    for (const p of patterns) expect(matchFolded(compileGlob(p, counter), folded, counter)).toBe(false);
    expect(counter.steps).toBeGreaterThan(0);
    expect(counter.steps).toBeLessThanOrEqual(text.length + bound(patterns, text.length));
  });

  it('doubling the name at most doubles the steps (no hidden super-linear term)', () => {
    const pattern = `${'*a'.repeat(99)}*b`;
    const steps = (n: number) => {
      const counter: StepCounter = { steps: 0 };
      matchFolded(compileGlob(pattern), foldText('a'.repeat(n)), counter);
      return counter.steps;
    };
    for (const n of [256, 512, 1024, 2048]) expect(steps(2 * n)).toBeLessThanOrEqual(2 * steps(n));
  });

  it('kindByRules counts its steps too: 100 adversarial rules against a 256-character name stay within the bound', () => {
    const rules: KindRule[] = Array.from({ length: 100 }, () => ({ kind: 'company', pattern: `${'*a'.repeat(99)}*b` }));
    const counter: StepCounter = { steps: 0 };
    expect(kindByRules(rules, 'a'.repeat(256), counter)).toBeUndefined();
    expect(counter.steps).toBeLessThanOrEqual(256 + bound(rules.map((r) => r.pattern!), 256));
    // And a match is found as cheaply: the last rule matches.
    rules.push({ kind: 'subAccount', pattern: `${'*a'.repeat(99)}*` });
    expect(kindByRules(rules, 'a'.repeat(256))).toBe('subAccount');
  });
});
