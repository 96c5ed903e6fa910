// Guessability estimate (zxcvbn) for the strength meter and as a second, smarter blocklist:
// it sees keyboard walks, dates, repeats and l33t spellings of dictionary words.
import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import * as common from '@zxcvbn-ts/language-common';
import * as en from '@zxcvbn-ts/language-en';
import * as nl from '@zxcvbn-ts/language-nl-be';

// zxcvbn runs synchronously on the event loop and its cost grows steeply with length and l33t
// symbols: a crafted 256-character password took over a second per check, so a few unauthenticated
// requests to the strength meter (or sign-up) could stall every other request. Only the first 64
// characters are estimated (a longer password that is still guessable in its first 64 is refused
// anyway; one that is strong there is strong) and l33t substitutions are capped, which keeps the
// worst case to tens of milliseconds without changing the verdict on common l33t passwords.
const zxcvbn = new ZxcvbnFactory({
  dictionary: { ...common.dictionary, ...en.dictionary, ...nl.dictionary },
  graphs: common.adjacencyGraphs,
  translations: en.translations,
  maxLength: 64,
  l33tMaxSubstitutions: 8,
});

export interface Strength {
  score: number;
  warning: string | null;
  suggestions: string[];
}

export function estimateStrength(password: string, userWords: string[]): Strength {
  const result = zxcvbn.check(password, userWords);
  return { score: result.score, warning: result.feedback.warning, suggestions: result.feedback.suggestions };
}

export function guessability(password: string, userWords: string[]): number {
  return estimateStrength(password, userWords).score;
}
