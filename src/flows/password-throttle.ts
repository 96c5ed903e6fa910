// Growing, bounded delays after wrong passwords, per account and per client address (SPEC §5).
// The account key is a hash of the typed email, so unknown emails are throttled exactly like known
// ones and the throttle itself reveals nothing. Counters live in the key-value store, shared by every node.
import { DAY } from '../core/clock.ts';
import { AppError } from '../core/errors.ts';
import { delayAfterFailures, type ThrottleRule } from '../core/signin-throttle.ts';
import { sha256 } from '../core/tokens.ts';
import type { Services } from './context.ts';

const FAILURE_WINDOW_MS = DAY;

function keys(email: string, ip: string): { scope: string; rule: (s: Services) => ThrottleRule }[] {
  return [
    {
      scope: `pw:acct:${sha256(email.trim().toLowerCase())}`,
      rule: (s) => ({
        freeFailures: s.config.policy.signinFreeFailures,
        maxDelaySeconds: s.config.policy.signinMaxDelaySeconds,
      }),
    },
    {
      scope: `pw:ip:${ip}`,
      rule: (s) => ({
        freeFailures: s.config.policy.signinFreeFailuresPerIp,
        maxDelaySeconds: s.config.policy.signinMaxDelaySeconds,
      }),
    },
  ];
}

/** Refuses the attempt, before any password is checked, while a delay is running. */
export async function assertMayTryPassword(services: Services, email: string, ip: string): Promise<void> {
  for (const { scope } of keys(email, ip)) {
    const waitMs = await services.kv.remainingMs(`${scope}:wait`);
    if (waitMs !== undefined && waitMs > 0) {
      throw new AppError('TOO_MANY_ATTEMPTS', { retryAfterSeconds: Math.ceil(waitMs / 1000) });
    }
  }
}

export async function recordPasswordFailure(services: Services, email: string, ip: string): Promise<void> {
  for (const { scope, rule } of keys(email, ip)) {
    const failures = await services.kv.increment(`${scope}:failures`, FAILURE_WINDOW_MS);
    const delay = delayAfterFailures(failures, rule(services));
    if (delay > 0) await services.kv.set(`${scope}:wait`, '1', delay * 1000);
  }
}

/** A correct password clears the account's counter (not the address's: one good login must not launder a spray). */
export async function recordPasswordSuccess(services: Services, email: string, ip: string): Promise<void> {
  const [account] = keys(email, ip);
  if (account) await services.kv.delete(`${account.scope}:failures`);
}
