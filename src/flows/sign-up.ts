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
  const created = await store.transaction(async (tx) => {
    const inserted = (await tx.accounts.create(account)) || (await tx.accounts.replaceUnconfirmed(account, confirmBy));
    if (inserted)
      await tx.audit.record({
        accountId: id,
        actor: `account:${id}`,
        event: 'account.created',
        at: now,
        ...origin(ctx),
        details: { country },
      });
    return inserted;
  });

  if (created) {
    await sendVerificationEmail(services, { id, email, name, locale: ctx.locale });
    return;
  }
  const existing = await store.accounts.findByEmail(email);
  if (existing) {
    const locale = isLocale(existing.locale) ? existing.locale : 'en';
    await services.mailer.send(signupExistingMessage({ email, name: existing.name, locale }, config.publicUrl));
  }
}

export async function sendVerificationEmail(
  services: Services,
  account: { id: string; email: string; name: string; locale: string },
): Promise<void> {
  const { config, store, clock } = services;
  const now = clock.now();
  const token = randomToken(32);
  await store.emailTokens.issue({
    tokenHash: sha256(token),
    accountId: account.id,
    purpose: 'verify_email',
    createdAt: now,
    expiresAt: new Date(now.getTime() + config.policy.emailTokenHours * HOUR),
  });
  // The link's host comes from configuration, never from the request (SECURITY.md item 24).
  const link = `${config.publicUrl}/verify-email?token=${token}`;
  const locale = isLocale(account.locale) ? account.locale : 'en';
  await services.mailer.send(
    verifyEmailMessage({ email: account.email, name: account.name, locale }, link, config.policy.emailTokenHours),
  );
}
