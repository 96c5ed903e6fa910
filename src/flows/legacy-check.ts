// The legacy-client check (SPEC §1 "legacy client", §3.13): a mail or calendar server that can only
// pass on what its client typed (an email and a password) asks whether they are good. Only
// app-specific passwords are ever accepted here, on every account: the account password never is
// (SPEC: never on a two-step account; and since app-specific passwords need two-step verification,
// the endpoint answers yes only for two-step accounts). So this endpoint can never become an oracle
// for the account password, and the account password is never stored in a mail client.
//
// Every request costs the same: one throttle claim, one account lookup, one hint lookup and exactly
// one argon2 verification (core/app-password.ts) — against the one live password whose hint
// matches, or the dummy hash when there is none, no account, or no two-step verification — so the
// answer and its time never tell whether an email has an account (SECURITY.md item 35).
import { normalizeEmail } from '../core/account-fields.ts';
import { appPasswordHint, normalizeAppPassword } from '../core/app-password.ts';
import type { RequestContext, Services } from './context.ts';
import { claimPasswordAttempt } from './password-throttle.ts';

function emailOrUndefined(raw: string): string | undefined {
  try {
    return normalizeEmail(raw);
  } catch {
    return undefined;
  }
}

/** True when the email's account has a live app-specific password equal to `password`; records its use. */
export async function checkLegacyCredentials(
  services: Services,
  input: { email: string; password: string },
  ctx: RequestContext,
): Promise<boolean> {
  const { store, hasher, clock } = services;
  // Throttled like a password (growing, bounded delays per typed email and per address), on a budget
  // of its own; claimed before any check, so parallel guesses cannot slip through together.
  const attempt = await claimPasswordAttempt(services, input.email, ctx.ip, 'appPassword');
  const email = emailOrUndefined(input.email);
  const account = email ? await store.accounts.findByEmail(email) : undefined;
  const usable =
    account !== undefined &&
    account.state === 'active' &&
    account.email_verified_at !== null &&
    account.two_step_enabled_at !== null;
  const canonical = normalizeAppPassword(input.password);
  // The lookup runs whatever the case (an id no account has, a hint no row has), for even timing.
  const candidate = await store.appPasswords.findLiveByHint(
    usable ? account.id : '',
    canonical ? appPasswordHint(canonical) : '',
  );
  const valid = await hasher.verify(candidate?.passwordHash, canonical ?? input.password);
  if (!valid || !candidate) return false;
  await attempt.succeeded();
  await store.appPasswords.markUsed(candidate.id, clock.now(), ctx.ip);
  return true;
}
