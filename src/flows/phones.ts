// Trusted phone numbers (SPEC §2, §3.4): added in E.164, trusted only after the code sent to them by
// SMS comes back; removable. Where the rollout has no SMS for the number's country, none can be added.
import { randomUUID } from 'node:crypto';
import { AppError } from '../core/errors.ts';
import { parsePhoneNumber } from '../core/phone.ts';
import type { Phone } from '../store/phones.ts';
import {
  answerChallenge,
  type IssuedChallenge,
  issueChallengeAfterDelivery,
  onChallengeCompleted,
} from './challenges.ts';
import { assertMaySendCode, assertMaySendSms } from './channels/send-limits.ts';
import { sendSmsCode } from './channels/sms-channel.ts';
import { origin, type RequestContext, type Services } from './context.ts';
import { notifyOwner } from './notify.ts';
import { assertKeepsSecondStep } from './second-steps.ts';
import type { AuthenticatedSession } from './sessions.ts';
import { simRecentlySwapped } from './sim-swap.ts';
import { requireRecentTwoStep } from './step-up.ts';

export interface PhoneView {
  id: string;
  number: string;
  verified: boolean;
  addedAt: Date;
}

export function phoneView(phone: Phone): PhoneView {
  return {
    id: phone.id,
    number: `•••• ${phone.e164.slice(-2)}`,
    verified: phone.verifiedAt !== null,
    addedAt: phone.createdAt,
  };
}

const MAX_PHONES = 5;

/** The phone a verification challenge of this account is about; NOT_FOUND for anyone else's. */
export async function phoneOfChallenge(services: Services, accountId: string, challengeId: string): Promise<PhoneView> {
  const challenge = await services.store.challenges.find(challengeId);
  if (!challenge || challenge.accountId !== accountId || challenge.purpose !== 'verify_phone')
    throw new AppError('NOT_FOUND');
  const phone = await services.store.phones.find(challenge.subject ?? '');
  if (!phone || phone.accountId !== accountId) throw new AppError('NOT_FOUND');
  return phoneView(phone);
}

export async function listPhones(services: Services, accountId: string): Promise<PhoneView[]> {
  return (await services.store.phones.listForAccount(accountId)).map(phoneView);
}

/** Adds an unverified number and texts it a code; answer with POST /api/v1/challenges/{id}/verify. */
export async function addPhone(
  services: Services,
  auth: AuthenticatedSession,
  rawNumber: string,
  ctx: RequestContext,
): Promise<{ phone: PhoneView; challenge: IssuedChallenge }> {
  requireRecentTwoStep(services, auth);
  if (!services.sms) throw new AppError('TWO_STEP_NOT_AVAILABLE', { detail: { channel: 'sms' } });
  const parsed = parsePhoneNumber(rawNumber, auth.account.country);
  if (!(await services.store.rollout.get(parsed.country ?? '')).sms)
    throw new AppError('PHONE_NUMBER_NOT_ALLOWED', { detail: { reason: 'no SMS in this country' } });
  const existing = await services.store.phones.listForAccount(auth.account.id);
  if (existing.length >= MAX_PHONES)
    throw new AppError('VALIDATION_FAILED', { detail: { field: 'phones', max: MAX_PHONES } });
  const now = services.clock.now();
  const phone: Phone = {
    id: randomUUID(),
    accountId: auth.account.id,
    e164: parsed.e164,
    country: parsed.country ?? null,
    createdAt: now,
    verifiedAt: null,
  };
  // The send budgets come first: a refused send leaves no new number behind.
  await assertMaySendCode(services, auth.account.id, `phone:${phone.e164}`);
  await assertMaySendSms(services, phone, ctx.ip);
  const known = existing.find((p) => p.e164 === parsed.e164);
  const target = known ?? phone;
  // A recent SIM change does not stop the code that proves the number (it reaches the SIM in the
  // phone now), but it is on the record (flows/sim-swap.ts).
  const simSwapped = await simRecentlySwapped(services, target.e164);
  // The text goes out before the number and its challenge are written: a failed send leaves neither.
  const challenge = await issueChallengeAfterDelivery(
    services,
    { accountId: auth.account.id, purpose: 'verify_phone', subject: target.id, channel: 'sms' },
    {
      deliver: (code) => sendSmsCode(services, target, code),
      async write(tx) {
        if (!known) {
          await tx.phones.add(phone);
          await tx.audit.record({
            accountId: auth.account.id,
            actor: `account:${auth.account.id}`,
            event: 'phone.added',
            at: now,
            ...origin(ctx),
            details: { phone: phone.id, number: phoneView(phone).number },
          });
        }
        if (simSwapped) {
          await tx.audit.record({
            accountId: auth.account.id,
            actor: `account:${auth.account.id}`,
            event: 'phone.sim_swap_suspected',
            at: now,
            ...origin(ctx),
            details: { phone: target.id, purpose: 'verify_phone', sent: true },
          });
        }
      },
    },
    ctx,
  );
  return { phone: phoneView(target), challenge };
}

onChallengeCompleted('verify_phone', async (services, tx, challenge, ctx) => {
  const now = services.clock.now();
  if (!(await tx.phones.markVerified(challenge.accountId, challenge.subject ?? '', now)))
    throw new AppError('NOT_FOUND');
  await tx.audit.record({
    accountId: challenge.accountId,
    actor: `account:${challenge.accountId}`,
    event: 'phone.verified',
    at: now,
    ...origin(ctx),
    details: { phone: challenge.subject },
  });
});

export async function confirmPhone(
  services: Services,
  auth: AuthenticatedSession,
  challengeId: string,
  code: string,
  ctx: RequestContext,
): Promise<PhoneView> {
  const challenge = await answerChallenge(services, auth.account.id, challengeId, code, ctx);
  const phone = await services.store.phones.find(challenge.subject ?? '');
  if (!phone) throw new AppError('NOT_FOUND');
  await notifyOwner(services, auth.account, 'phoneAdded', { number: phoneView(phone).number });
  return phoneView(phone);
}

export async function removePhone(
  services: Services,
  auth: AuthenticatedSession,
  phoneId: string,
  ctx: RequestContext,
): Promise<void> {
  requireRecentTwoStep(services, auth);
  const phone = await services.store.phones.find(phoneId);
  const now = services.clock.now();
  await services.store.transaction(async (tx) => {
    await assertKeepsSecondStep(services, tx, auth.account.id, { phoneId });
    if (!(await tx.phones.remove(auth.account.id, phoneId, now))) throw new AppError('NOT_FOUND');
    await tx.audit.record({
      accountId: auth.account.id,
      actor: `account:${auth.account.id}`,
      event: 'phone.removed',
      at: now,
      ...origin(ctx),
      details: { phone: phoneId },
    });
  });
  await notifyOwner(services, auth.account, 'phoneRemoved', { number: phone ? phoneView(phone).number : '' });
}
