// Approve by push (SPEC §4, number matching): after the right pick a trusted device may answer
// "Approve" instead of having its code typed. It signs the challenge and the picked number with its
// device key; the server keeps the approval until the browser that asked claims it, once, as the
// answer to its challenge (a Proof, so the same verify, transaction, audit and budgets as a code).
import { approvalMessage, type DevicePublicKey, signatureValid } from '../core/device-signature.ts';
import { AppError } from '../core/errors.ts';
import type { Challenge } from '../store/challenges.ts';
import type { Device } from '../store/devices.ts';
import type { Proof } from './challenges.ts';
import { origin, type RequestContext, type Services } from './context.ts';
import { APPROVABLE_PURPOSES, matchNumberFor, pickKey } from './number-matching.ts';

function approvalKey(challengeId: string): string {
  return `approved:${challengeId}`;
}

function isOpen(challenge: Challenge, now: Date): boolean {
  return !challenge.completedAt && !challenge.cancelledAt && challenge.expiresAt > now;
}

export type ApproveResult = 'approved' | 'unknown' | 'bad_signature';

/**
 * A device approves a request it picked the right number for. Only a device that is trusted now, of
 * the challenge's account, for an open challenge whose current match it picked right, and only once:
 * the pick is taken when the approval is recorded.
 */
export async function approveFromDevice(
  services: Services,
  device: Device,
  challengeId: string,
  signature: unknown,
  ctx: RequestContext,
): Promise<ApproveResult> {
  const now = services.clock.now();
  const challenge = await services.store.challenges.find(challengeId);
  const current = (await services.store.devices.listForAccount(device.accountId)).find((d) => d.id === device.id);
  if (!challenge || challenge.accountId !== device.accountId || !current?.trustedAt) return 'unknown';
  if (!APPROVABLE_PURPOSES.has(challenge.purpose) || !isOpen(challenge, now)) return 'unknown';
  const picked = await services.kv.get(pickKey(challengeId, device.id));
  // A new push for the challenge starts a new match: a pick of an earlier one does not count.
  if (picked === undefined || Number(picked) !== (await matchNumberFor(services, challengeId))) return 'unknown';
  const message = approvalMessage(challengeId, Number(picked));
  if (typeof signature !== 'string' || !signatureValid(current.publicKey as DevicePublicKey, message, signature))
    return 'bad_signature';
  if ((await services.kv.take(pickKey(challengeId, device.id))) === undefined) return 'unknown';
  const ttl = Math.max(1000, challenge.expiresAt.getTime() - now.getTime());
  await services.kv.set(approvalKey(challengeId), device.id, ttl);
  await services.store.audit.record({
    accountId: device.accountId,
    actor: `device:${device.id}`,
    event: 'challenge.approved',
    at: now,
    ...origin(ctx),
    details: { purpose: challenge.purpose },
  });
  return 'approved';
}

/** Whether a device approved the challenge and the approval is still unclaimed: what the waiting page polls. */
export async function isApproved(services: Services, challengeId: string): Promise<boolean> {
  return (await services.kv.get(approvalKey(challengeId))) !== undefined;
}

/**
 * The answer "my device approved it". Without an approval it is refused as NOT_APPROVED and is not
 * counted as a wrong attempt: it holds no secret to guess, so repeating it can never succeed (only
 * the owner's device can make it true), while counting it would let anyone holding the challenge, or
 * a page that asks a moment too early, use up the owner's attempts and lock the account.
 */
export const deviceApproval: Proof = {
  by: 'approval',
  purposes: APPROVABLE_PURPOSES,
  async check(services, challenge) {
    if (!(await isApproved(services, challenge.id))) throw new AppError('NOT_APPROVED');
    // Claimed once, atomically: of two concurrent answers exactly one takes it.
    return (await services.kv.take(approvalKey(challenge.id))) === undefined ? 'used' : 'accepted';
  },
};
