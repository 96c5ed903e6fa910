// Guessability estimate (zxcvbn) for the strength meter and as a second, smarter blocklist:
// it sees keyboard walks, dates, repeats and l33t spellings of dictionary words.
import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import * as common from '@zxcvbn-ts/language-common';
import * as en from '@zxcvbn-ts/language-en';
import * as nl from '@zxcvbn-ts/language-nl-be';

const zxcvbn = new ZxcvbnFactory({
  dictionary: { ...common.dictionary, ...en.dictionary, ...nl.dictionary },
  graphs: common.adjacencyGraphs,
  translations: en.translations,
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
