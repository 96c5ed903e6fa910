// Wrong passwords slow the next attempt down instead of locking the account (SPEC §5, SECURITY.md
// items 8–9): a stranger who knows an email must never be able to lock its owner out for good.
// After `freeFailures` failures the wait doubles per failure, from one second up to `maxDelaySeconds`.

export interface ThrottleRule {
  freeFailures: number;
  maxDelaySeconds: number;
}

/** Seconds to wait after the `failures`-th consecutive failure (0 while still free). */
export function delayAfterFailures(failures: number, rule: ThrottleRule): number {
  if (failures < rule.freeFailures) return 0;
  const exponent = Math.min(failures - rule.freeFailures, 30);
  return Math.min(2 ** exponent, rule.maxDelaySeconds);
}

/**
 * How long the `lockNumber`-th timed lock (1, 2, …) of an account without two-step verification lasts
 * after it spent its wrong-code budget (SPEC §3.11: "unlocks after a timed lock, growing, bounded"):
 * the first lasts `firstMs`, each further one twice the one before, never longer than `maxMs`.
 */
export function timedLockMs(lockNumber: number, firstMs: number, maxMs: number): number {
  const exponent = Math.min(Math.max(lockNumber, 1) - 1, 30);
  return Math.min(firstMs * 2 ** exponent, maxMs);
}
