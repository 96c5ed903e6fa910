// Growing, bounded delays after wrong passwords, per account and per client address (SPEC §5).
// The account key is a hash of the typed email, so unknown emails are throttled exactly like known
// ones and the throttle itself reveals nothing. Counters live in the key-value store, shared by every node.
//
// The budget is claimed atomically *before* a password is checked (DESIGN.md convention 5): every
// attempt is counted as a failure up front, and the attempt that would start a delay must also win
// that delay's wait key (set-if-absent). Checking "is a delay running?" and recording the failure
// only after the slow hash let any number of parallel requests slip through together: 30 parallel
// guesses were all checked where the rule allows 5 and then one per delay.
import { DAY } from '../core/clock.ts';
import { AppError } from '../core/errors.ts';
import { delayAfterFailures, type ThrottleRule } from '../core/signin-throttle.ts';
import { sha256 } from '../core/tokens.ts';
import type { Services } from './context.ts';

const FAILURE_WINDOW_MS = DAY;

interface Scope {
  key: string;
  rule: ThrottleRule;
  /**
   * A correct password forgives the account's failures; for an address it only gives back its own
   * attempt (one good sign-in must not launder a spray from the same address).
   */
  onSuccess: 'forgive' | 'refund';
}

/**
 * What is being guessed. Recovery keys get a budget of their own with the same growing, bounded
 * delays: guessing one through "forgot password" needs no password, so it must never lock the owner out.
 * App-specific passwords too: a mail client still using a revoked one must not slow down the
 * owner's own sign-in, and guesses at the legacy endpoint must not spend the sign-in budget.
 */
export type SecretKind = 'password' | 'recoveryKey' | 'appPassword';
const PREFIX: Record<SecretKind, string> = { password: 'pw', recoveryKey: 'rk', appPassword: 'ap' };

/**
 * The first scope is the account's, unless the attempt comes from a browser that has signed in to
 * this account before (its known-browser marker, flows/known-browsers.ts): then it is that browser's
 * own. A stranger guessing from elsewhere runs the account's delays up, but the owner's own browser
 * keeps its budget, so the guessing cannot keep the owner out (the OWASP "device cookie").
 */
async function scopes(
  services: Services,
  email: string,
  ip: string,
  kind: SecretKind,
  knownBrowser: string | undefined,
): Promise<Scope[]> {
  const { policy } = services.config;
  const prefix = PREFIX[kind];
  const ownBrowser = knownBrowser && (await isOwnersBrowser(services, email, knownBrowser));
  return [
    {
      key: ownBrowser ? `${prefix}:browser:${sha256(knownBrowser)}` : `${prefix}:acct:${accountThrottleKey(email)}`,
      rule: { freeFailures: policy.signinFreeFailures, maxDelaySeconds: policy.signinMaxDelaySeconds },
      onSuccess: 'forgive',
    },
    {
      key: `${prefix}:ip:${ip}`,
      rule: { freeFailures: policy.signinFreeFailuresPerIp, maxDelaySeconds: policy.signinMaxDelaySeconds },
      onSuccess: 'refund',
    },
  ];
}

async function isOwnersBrowser(services: Services, email: string, marker: string): Promise<boolean> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(marker)) return false;
  const account = await services.store.accounts.findByEmail(email.trim().toLowerCase());
  if (!account) return false;
  const since = new Date(services.clock.now().getTime() - services.config.policy.knownBrowserDays * DAY);
  return services.store.knownBrowsers.isKnown(account.id, sha256(marker), since);
}

function accountThrottleKey(email: string): string {
  return sha256(email.trim().toLowerCase());
}

/** A password reset ends the account's password delays (SPEC §3.11: a non-2SV account unlocks after a timed lock or a reset). */
export async function forgivePasswordFailures(services: Services, email: string): Promise<void> {
  const key = `pw:acct:${accountThrottleKey(email)}`;
  await services.kv.delete(`${key}:attempts`);
  await services.kv.delete(`${key}:wait`);
}

/** Milliseconds the account's password delay still runs (0 when none): the support console shows it. */
export async function passwordDelayRemainingMs(services: Services, email: string): Promise<number> {
  return (await services.kv.remainingMs(`pw:acct:${accountThrottleKey(email)}:wait`)) ?? 0;
}

function tooManyAttempts(waitMs: number): AppError {
  return new AppError('TOO_MANY_ATTEMPTS', { retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) });
}

export interface PasswordAttempt {
  /** The password was right: the account's failures are forgiven and the address gets its attempt back. */
  succeeded(): Promise<void>;
}

/**
 * Claims one password attempt, or refuses it with TOO_MANY_ATTEMPTS (and Retry-After) while a delay
 * runs. Nothing needs to be recorded after a wrong password: it was counted here. Call `succeeded`
 * after a right one.
 */
export async function claimPasswordAttempt(
  services: Services,
  email: string,
  ip: string,
  kind: SecretKind = 'password',
  options: { knownBrowser?: string | undefined } = {},
): Promise<PasswordAttempt> {
  const { kv } = services;
  const all = await scopes(services, email, ip, kind, options.knownBrowser);
  // A running delay refuses the attempt before anything is counted: waiting callers do not make it longer.
  for (const scope of all) {
    const waitMs = await kv.remainingMs(`${scope.key}:wait`);
    if (waitMs !== undefined && waitMs > 0) throw tooManyAttempts(waitMs);
  }
  const claimed: string[] = [];
  for (const scope of all) {
    const attempts = await kv.increment(`${scope.key}:attempts`, FAILURE_WINDOW_MS);
    const refunded = scope.onSuccess === 'refund' ? Number((await kv.get(`${scope.key}:successes`)) ?? 0) : 0;
    const delaySeconds = delayAfterFailures(Math.max(0, attempts - refunded), scope.rule);
    if (delaySeconds === 0) continue;
    const wait = `${scope.key}:wait`;
    if (!(await kv.setIfAbsent(wait, '1', delaySeconds * 1000))) {
      // Another attempt holds this delay: it runs alone. Release what this one claimed.
      for (const key of claimed) await kv.delete(key);
      throw tooManyAttempts((await kv.remainingMs(wait)) ?? 1000);
    }
    claimed.push(wait);
  }
  return {
    async succeeded() {
      for (const scope of all) {
        if (scope.onSuccess === 'forgive') {
          await kv.delete(`${scope.key}:attempts`);
          await kv.delete(`${scope.key}:wait`);
          continue;
        }
        // The refund lives as long as the window it counts against.
        const windowMs = (await kv.remainingMs(`${scope.key}:attempts`)) ?? FAILURE_WINDOW_MS;
        await kv.increment(`${scope.key}:successes`, Math.max(1, windowMs));
        if (claimed.includes(`${scope.key}:wait`)) await kv.delete(`${scope.key}:wait`);
      }
    },
  };
}
