// How many security keys an account may have and when they take over from codes (SECURITY_KEY_RULES).
// `open`: keys are one more second step beside codes, from the first key on. `apple`: Apple's rules
// for security keys on an Apple ID — at least two keys before they count, and then they replace
// verification codes (no code is sent or accepted for a sign-in, step-up or recovery); at most six.
export type SecurityKeyRules = 'open' | 'apple';

export interface SecurityKeyLimits {
  max: number;
  /** From this many keys on, keys are the only second step; undefined when they never replace codes. */
  replaceCodesAt: number | undefined;
  /** Fewer keys than this and they are not offered as a second step yet. */
  usableFrom: number;
}

export function securityKeyLimits(rules: SecurityKeyRules): SecurityKeyLimits {
  return rules === 'apple'
    ? { max: 6, replaceCodesAt: 2, usableFrom: 2 }
    : { max: 10, replaceCodesAt: undefined, usableFrom: 1 };
}

/** Whether an account with `keys` keys signs in and steps up with keys only. */
export function keysReplaceCodes(rules: SecurityKeyRules, keys: number): boolean {
  const { replaceCodesAt } = securityKeyLimits(rules);
  return replaceCodesAt !== undefined && keys >= replaceCodesAt;
}
