// Glob matching for the tenant's group-kind rules (issue 4 "Kinds of groups"; issue 9, point 15):
// `*` any run of characters (also none, also line breaks), `?` exactly one character, every other
// character itself, case-insensitively; the whole displayName must match. Pure, and in time
// linear in the name: no regular expression is ever built from a tenant's input, because a
// backtracking engine takes exponential time on patterns such as `*a*a*a*…*b` against a long run
// of 'a' (RegExp `^.*a.*a.*a….*b$`), and one such request would stall every tenant sharing the
// event loop.
//
// How: the pattern is split at '*' into segments. With no '*' the name must match the one
// segment exactly; otherwise the first segment is anchored at the start, the last at the end,
// and each middle segment is found at its leftmost place after the previous one (taking the
// leftmost occurrence never loses a match: it leaves the most room to what follows). Each
// middle segment is searched with the bit-parallel Shift-And scan (Baeza-Yates & Gonnet 1992),
// in which '?' costs nothing extra: it is a position whose bit is set in every character's mask.
// The searches of successive segments resume where the previous one stopped, so the name is
// scanned once: at most n × w word operations for a name of n characters and segments of at
// most 32·w characters, plus the pattern's own length to prepare. test/unit/glob.test.ts counts
// the steps and proves the bound for adversarial patterns, 100 rules of 200 characters.
//
// A character is a Unicode code point (an emoji is one, not two halves), and case is folded one
// code point at a time (foldCodePoint), so lengths never change by folding.

/** Counts elementary steps when given: one per character folded or compared, one per word of a Shift-And update. */
export interface StepCounter {
  steps: number;
}

/** A '?' position. Folded characters are code points, never negative. */
const ANY = -1;

interface Segment {
  /** Folded code points, ANY for '?'. */
  tokens: number[];
  /** Words of 32 bits the Shift-And state takes. */
  words: number;
  /** For each character of the segment: bit j set where position j accepts it (its own and every '?'). */
  masks: Map<number, Uint32Array>;
  /** The mask of a character not in the segment: the '?' positions only. */
  other: Uint32Array;
}

export interface CompiledGlob {
  /** No '*': the name must be exactly `head`. */
  exact: boolean;
  head: number[];
  middle: Segment[];
  tail: number[];
  /** The shortest name that can match. */
  minLength: number;
}

/**
 * One code point's case fold: lower(upper(c)) when both steps keep it one code point, so that
 * 'ς', 'σ' and 'Σ', or 'ß' and 'ẞ', or 'K' and the Kelvin sign fold alike; else lower(c); else c
 * ('İ' lower-cases to two code points and folds to itself, as in Unicode's simple folding).
 */
export function foldCodePoint(cp: number): number {
  if (cp < 0x80) return cp >= 0x41 && cp <= 0x5a ? cp + 0x20 : cp;
  const c = String.fromCodePoint(cp);
  const single = (s: string) => (s.length === 1 || (s.length === 2 && s.codePointAt(0)! > 0xffff) ? s : undefined);
  const upper = single(c.toUpperCase());
  const folded = single((upper ?? c).toLowerCase()) ?? single(c.toLowerCase());
  return folded === undefined ? cp : folded.codePointAt(0)!;
}

/** The folded code points of a text: one step per character. */
export function foldText(text: string, counter?: StepCounter): number[] {
  const out: number[] = [];
  for (const ch of text) out.push(foldCodePoint(ch.codePointAt(0)!));
  if (counter) counter.steps += out.length;
  return out;
}

function segment(tokens: number[], counter?: StepCounter): Segment {
  const words = Math.max(1, Math.ceil(tokens.length / 32));
  const other = new Uint32Array(words);
  tokens.forEach((t, j) => {
    if (t === ANY) other[j >>> 5] |= 1 << (j & 31);
  });
  const masks = new Map<number, Uint32Array>();
  tokens.forEach((t, j) => {
    if (t === ANY) return;
    let m = masks.get(t);
    if (!m) {
      masks.set(t, (m = other.slice()));
      if (counter) counter.steps += words;
    }
    m[j >>> 5] |= 1 << (j & 31);
  });
  if (counter) counter.steps += tokens.length + words;
  return { tokens, words, masks, other };
}

function compileTokens(tokens: number[], stars: number[], counter?: StepCounter): CompiledGlob {
  if (!stars.length) return { exact: true, head: tokens, middle: [], tail: [], minLength: tokens.length };
  const parts: number[][] = [];
  let from = 0;
  for (const at of [...stars, tokens.length]) {
    parts.push(tokens.slice(from, at));
    from = at + 1;
  }
  const head = parts[0];
  const tail = parts[parts.length - 1];
  // Empty middle segments ('**', '*' next to '*') match anywhere: nothing to search for.
  const middle = parts.slice(1, -1).filter((p) => p.length > 0).map((p) => segment(p, counter));
  const minLength = head.length + tail.length + middle.reduce((n, s) => n + s.tokens.length, 0);
  return { exact: false, head, middle, tail, minLength };
}

/** A glob: '*' and '?' are wildcards, every other character (regex syntax included) is itself. */
export function compileGlob(pattern: string, counter?: StepCounter): CompiledGlob {
  const tokens: number[] = [];
  const stars: number[] = [];
  for (const ch of pattern) {
    if (ch === '*') {
      stars.push(tokens.length);
      tokens.push(ANY); // placeholder at the split position, dropped by compileTokens
    } else tokens.push(ch === '?' ? ANY : foldCodePoint(ch.codePointAt(0)!));
  }
  if (counter) counter.steps += tokens.length;
  return compileTokens(tokens, stars, counter);
}

/** "Starts with `prefix`", every character literal ('*' and '?' too): the glob `prefix*`. */
export function compilePrefix(prefix: string, counter?: StepCounter): CompiledGlob {
  const tokens = foldText(prefix, counter);
  return compileTokens([...tokens, ANY], [tokens.length], counter);
}

/** Whether `tokens` match `text` at `at` ('?' matches any character). */
function matchesAt(tokens: number[], text: number[], at: number, counter?: StepCounter): boolean {
  for (let j = 0; j < tokens.length; j++) {
    if (counter) counter.steps++;
    if (tokens[j] !== ANY && tokens[j] !== text[at + j]) return false;
  }
  return true;
}

/**
 * Shift-And: the end (exclusive) of the leftmost occurrence of `seg` in text[from, to), or -1.
 * Bit j of the state is set when the last j+1 characters read match the segment's first j+1.
 */
function search(seg: Segment, text: number[], from: number, to: number, counter?: StepCounter): number {
  const { words, masks, other } = seg;
  const last = seg.tokens.length - 1;
  const lastWord = last >>> 5;
  const lastBit = 1 << (last & 31);
  const state = new Uint32Array(words);
  for (let i = from; i < to; i++) {
    const mask = masks.get(text[i]) ?? other;
    // state = ((state << 1) | 1) & mask, across words: each word takes the top bit of the one below.
    let carry = 1;
    for (let w = 0; w < words; w++) {
      const s = state[w];
      state[w] = ((s << 1) | carry) & mask[w];
      carry = s >>> 31;
    }
    if (counter) counter.steps += words;
    if (state[lastWord] & lastBit) return i + 1;
  }
  return -1;
}

/** Whether the compiled glob matches the whole of an already folded text (foldText). */
export function matchFolded(glob: CompiledGlob, text: number[], counter?: StepCounter): boolean {
  const n = text.length;
  if (glob.exact) return n === glob.head.length && matchesAt(glob.head, text, 0, counter);
  if (n < glob.minLength) return false;
  if (!matchesAt(glob.head, text, 0, counter)) return false;
  const end = n - glob.tail.length;
  if (!matchesAt(glob.tail, text, end, counter)) return false;
  let at = glob.head.length;
  for (const seg of glob.middle) {
    const found = search(seg, text, at, end, counter);
    if (found === -1) return false;
    at = found;
  }
  return true;
}

/** Whether `pattern` matches the whole of `text`, case-insensitively. */
export function globMatches(pattern: string, text: string, counter?: StepCounter): boolean {
  return matchFolded(compileGlob(pattern, counter), foldText(text, counter), counter);
}
