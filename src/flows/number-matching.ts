// Number matching (SPEC §4, against push fatigue). With NUMBER_MATCHING on, a code pushed for a
// sign-in, a step-up or a recovery does not reach the devices at once: the browser shows a two-digit
// number and the devices ask the owner to pick it among three. Only the right pick, from a trusted
// device of the account, releases the code to that device; a wrong pick cancels the request and
// alerts the owner, exactly like "This wasn't me". Someone bombing the owner with pushes cannot get
// a code by a tired tap: they would have to tell the owner the number.
import { randomInt } from 'node:crypto';
import type { Challenge } from '../store/challenges.ts';
import type { Device } from '../store/devices.ts';
import { origin, type RequestContext, type Services } from './context.ts';
import { denyFromDevice } from './devices.ts';
import type { AuthenticatedSession } from './sessions.ts';
import { requireRecentTwoStep } from './step-up.ts';

const MATCHED_PURPOSES = new Set(['sign_in', 'step_up', 'recovery']);
/**
 * Where the device may approve instead of showing the code (device-approval.ts): the pages that
 * wait for an approval are the sign-in code steps and step-up. Recovery keeps its typed code.
 */
export const APPROVABLE_PURPOSES: ReadonlySet<string> = new Set(['sign_in', 'step_up']);

interface PendingMatch {
  number: number;
  /** The code push the right pick releases. */
  codePush: Record<string, unknown>;
}

function matchKey(challengeId: string): string {
  return `match:${challengeId}`;
}

/** The right pick of one device, kept until it approves or the challenge expires: the number picked. */
export function pickKey(challengeId: string, deviceId: string): string {
  return `match-pick:${challengeId}:${deviceId}`;
}

/** On for every account with NUMBER_MATCHING, and for accounts whose owner turned it on. */
export async function matchingApplies(services: Services, challenge: Challenge): Promise<boolean> {
  if (!MATCHED_PURPOSES.has(challenge.purpose)) return false;
  if (services.config.policy.numberMatching) return true;
  return (await services.store.accounts.findById(challenge.accountId))?.number_matching === true;
}

/** The owner requires (or stops requiring) number matching for their account: a protected, audited change. */
export async function setNumberMatching(
  services: Services,
  auth: AuthenticatedSession,
  required: boolean,
  ctx: RequestContext,
): Promise<void> {
  requireRecentTwoStep(services, auth);
  const now = services.clock.now();
  await services.store.transaction(async (tx) => {
    await tx.accounts.setNumberMatching(auth.account.id, required, now);
    await tx.audit.record({
      accountId: auth.account.id,
      actor: `account:${auth.account.id}`,
      event: required ? 'number_matching.required' : 'number_matching.not_required',
      at: now,
      ...origin(ctx),
    });
  });
}

/** Three different two-digit numbers, the right one among them, in random order. */
function choicesAround(number: number): number[] {
  const choices = new Set([number]);
  while (choices.size < 3) choices.add(randomInt(10, 100));
  // Fisher–Yates: each order equally likely, so the position says nothing about the right number.
  const shuffled = [...choices];
  for (let i = shuffled.length - 1; i > 0; i -= 1) {
    const j = randomInt(0, i + 1);
    [shuffled[i], shuffled[j]] = [shuffled[j] as number, shuffled[i] as number];
  }
  return shuffled;
}

/**
 * Keeps the code push back and returns what goes to the devices instead: the choices, the purpose
 * and where the request came from, but no code. A new code for the same challenge starts a new match.
 */
export async function holdCodeForMatch(
  services: Services,
  challenge: Challenge,
  codePush: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const number = randomInt(10, 100);
  const ttl = Math.max(1000, challenge.expiresAt.getTime() - services.clock.now().getTime());
  await services.kv.set(matchKey(challenge.id), JSON.stringify({ number, codePush } satisfies PendingMatch), ttl);
  return {
    type: 'match',
    challengeId: challenge.id,
    choices: choicesAround(number),
    purpose: challenge.purpose,
    expiresAt: challenge.expiresAt.toISOString(),
    context: challenge.context,
  };
}

/** The number the browser shows for the challenge's latest push, if it waits for a match. */
export async function matchNumberFor(services: Services, challengeId: string): Promise<number | undefined> {
  const stored = await services.kv.get(matchKey(challengeId));
  return stored ? (JSON.parse(stored) as PendingMatch).number : undefined;
}

export type MatchAnswer = { result: 'code'; codePush: Record<string, unknown> } | { result: 'denied' | 'unknown' };

/** A trusted device picked a number: the code for that device, or the request cancelled and the owner alerted. */
export async function answerMatch(
  services: Services,
  device: Device,
  challengeId: string,
  picked: unknown,
  ctx: RequestContext,
): Promise<MatchAnswer> {
  const challenge = await services.store.challenges.find(challengeId);
  const stored = await services.kv.get(matchKey(challengeId));
  // The device as it is now: it may have become trusted (or been removed) since it connected.
  const current = (await services.store.devices.listForAccount(device.accountId)).find((d) => d.id === device.id);
  if (!challenge || challenge.accountId !== device.accountId || !current?.trustedAt || !stored)
    return { result: 'unknown' };
  const pending = JSON.parse(stored) as PendingMatch;
  if (picked === pending.number) {
    if (!APPROVABLE_PURPOSES.has(challenge.purpose)) return { result: 'code', codePush: pending.codePush };
    // `matched` tells the device it may approve, and which number its approval signs.
    const ttl = Math.max(1000, challenge.expiresAt.getTime() - services.clock.now().getTime());
    await services.kv.set(pickKey(challengeId, device.id), String(pending.number), ttl);
    return { result: 'code', codePush: { ...pending.codePush, matched: pending.number } };
  }
  await services.kv.delete(matchKey(challengeId));
  await services.store.audit.record({
    accountId: device.accountId,
    actor: `device:${device.id}`,
    event: 'challenge.match_failed',
    at: services.clock.now(),
    ...origin(ctx),
    details: { purpose: challenge.purpose },
  });
  await denyFromDevice(services, device, challengeId, ctx);
  return { result: 'denied' };
}
