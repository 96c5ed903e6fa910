// SPEC §3.1: sign up → verification email → active account. The answer is the same whether or not
// the email already has an account, and both paths do the same expensive work (SECURITY.md item 35):
// the owner of a taken address gets an email telling them someone tried.
import { randomUUID } from 'node:crypto';
import { normalizeCountry, normalizeEmail, normalizeName, parseBirthDate } from '../core/account-fields.ts';
import { HOUR } from '../core/clock.ts';
import { checkPassword } from '../core/password-policy.ts';
import { randomToken, sha256 } from '../core/tokens.ts';
import { signupExistingMessage, verifyEmailMessage } from '../delivery/email/messages.ts';
import { newAccountRow } from '../store/accounts.ts';
import type { Store } from '../store/index.ts';
import { isLocale } from '../text/index.ts';
import { origin, type RequestContext, type Services } from './context.ts';

export interface SignUpInput {
  email: string;
  password: string;
  name: string;
  birthDate: string;
  country: string;
}

export async function signUp(services: Services, input: SignUpInput, ctx: RequestContext): Promise<void> {
  const { config, store, clock, hasher } = services;
  const now = clock.now();
  const email = normalizeEmail(input.email);
  const name = normalizeName(input.name);
  const birthDate = parseBirthDate(input.birthDate, now);
  const country = normalizeCountry(input.country);
  checkPassword(
    input.password,
    { minLength: config.policy.passwordMinLength, maxLength: config.policy.passwordMaxLength },
    { email, name },
    services.passwordChecks,
  );
  const passwordHash = await hasher.hash(input.password);

  const id = randomUUID();
  const account = newAccountRow(
    { id, email, password_hash: passwordHash, name, birth_date: birthDate, country, locale: ctx.locale },
    now,
  );
  const confirmBy = new Date(now.getTime() - config.policy.emailTokenHours * HOUR);
  // Both paths run three statements in one transaction that writes (a new account: its row, its
  // event, its token; a taken email: the failed insert, the lookup, its event), then write the email
  // to the outbox. On PostgreSQL every commit that wrote waits for the disk: when the new account's
  // row and token committed apart and the taken path wrote nothing, a taken email answered 1–3 ms
  // sooner, which a Kolmogorov–Smirnov test told apart (test/security/enumeration-timing.test.ts).
  // Replacing a stale unconfirmed account costs two statements more: that email was free anyway.
  const outcome = await store.transaction(async (tx) => {
    let inserted = await tx.accounts.create(account);
    const existing = inserted ? undefined : await tx.accounts.findByEmail(email);
    if (existing && !existing.email_verified_at && existing.created_at < confirmBy)
      inserted = await tx.accounts.replaceUnconfirmed(account, confirmBy);
    if (inserted) {
      await tx.audit.record({
        accountId: id,
        actor: `account:${id}`,
        event: 'account.created',
        at: now,
        ...origin(ctx),
        details: { country },
      });
      return { created: true as const, token: await issueVerificationToken(services, tx, id) };
    }
    if (existing)
      await tx.audit.record({
        accountId: existing.id,
        actor: 'system',
        event: 'account.signup_existing',
        at: now,
        ...origin(ctx),
      });
    return { created: false as const, existing };
  });

  if (outcome.created) {
    await mailVerificationLink(services, { email, name, locale: ctx.locale }, outcome.token);
    return;
  }
  if (outcome.existing) {
    const locale = isLocale(outcome.existing.locale) ? outcome.existing.locale : 'en';
    await services.mailer.send(signupExistingMessage({ email, name: outcome.existing.name, locale }, config.publicUrl));
  }
}

async function issueVerificationToken(services: Services, store: Store, accountId: string): Promise<string> {
  const now = services.clock.now();
  const token = randomToken(32);
  await store.emailTokens.issue({
    tokenHash: sha256(token),
    accountId,
    purpose: 'verify_email',
    createdAt: now,
    expiresAt: new Date(now.getTime() + services.config.policy.emailTokenHours * HOUR),
  });
  return token;
}

async function mailVerificationLink(
  services: Services,
  to: { email: string; name: string; locale: string },
  token: string,
): Promise<void> {
  const { config } = services;
  // The link's host comes from configuration, never from the request (SECURITY.md item 24).
  const link = `${config.publicUrl}/verify-email?token=${token}`;
  const locale = isLocale(to.locale) ? to.locale : 'en';
  await services.mailer.send(
    verifyEmailMessage({ email: to.email, name: to.name, locale }, link, config.policy.emailTokenHours),
  );
}

export async function sendVerificationEmail(
  services: Services,
  account: { id: string; email: string; name: string; locale: string },
): Promise<void> {
  const token = await issueVerificationToken(services, services.store, account.id);
  await mailVerificationLink(services, account, token);
}
