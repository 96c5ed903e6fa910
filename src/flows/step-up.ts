// Protected changes (SPEC §3.3, §3.4; SECURITY.md item 31): on an account with two-step verification,
// every change needs a two-step verification in the last 10 minutes. The step-up is a challenge bound
// to the session that asked for it; answering it raises that session, and only that one.
import { MINUTE } from '../core/clock.ts';
import { AppError } from '../core/errors.ts';
import './channels/all.ts';
import { type IssuedChallenge, onChallengeCompleted, openChallenge } from './challenges.ts';
import { type Channel, listChannels } from './channels/index.ts';
import { origin, type RequestContext, type Services } from './context.ts';
import type { AuthenticatedSession } from './sessions.ts';

export function hasRecentTwoStep(services: Services, auth: AuthenticatedSession): boolean {
  const age = services.clock.now().getTime() - auth.session.verified_at.getTime();
  return auth.session.assurance === 'two-step' && age <= services.config.policy.recentVerificationMinutes * MINUTE;
}

/** Throws STEP_UP_REQUIRED unless the account has no two-step verification or the session verified recently. */
export function requireRecentTwoStep(services: Services, auth: AuthenticatedSession): void {
  if (auth.account.two_step_enabled_at && !hasRecentTwoStep(services, auth)) throw new AppError('STEP_UP_REQUIRED');
}

export async function startStepUp(
  services: Services,
  auth: AuthenticatedSession,
  ctx: RequestContext,
): Promise<IssuedChallenge & { channels: Channel[] }> {
  const channels = await listChannels(services, auth.account.id);
  const challenge = await openChallenge(
    services,
    { accountId: auth.account.id, purpose: 'step_up', subject: auth.session.id },
    ctx,
  );
  return { ...challenge, channels };
}

onChallengeCompleted('step_up', async (services, tx, challenge, ctx) => {
  const now = services.clock.now();
  await tx.sessions.markTwoStepVerified(challenge.accountId, challenge.subject ?? '', now);
  await tx.audit.record({
    accountId: challenge.accountId,
    actor: `account:${challenge.accountId}`,
    event: 'session.stepped_up',
    at: now,
    ...origin(ctx),
    details: { session: challenge.subject },
  });
});
