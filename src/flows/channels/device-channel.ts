// Codes by push to every trusted device of the account (SPEC §3.6), with where the request came from.
// Push bombing (SPEC §4): at most PUSHES_PER_HOUR pushes per account since its last accepted code;
// past that nothing is pushed and the user is told to use another way (SMS, an authenticator, the key).
import { HOUR } from '../../core/clock.ts';
import { AppError } from '../../core/errors.ts';
import type { Services } from '../context.ts';
import { holdCodeForMatch, matchingApplies } from '../number-matching.ts';
import { registerChannelKind } from './index.ts';

export function pushCountKey(accountId: string): string {
  return `push:count:${accountId}`;
}

async function takePush(services: Services, accountId: string): Promise<void> {
  const key = pushCountKey(accountId);
  const pushed = await services.kv.increment(key, HOUR);
  if (pushed > services.config.policy.pushesPerHour) {
    const remaining = (await services.kv.remainingMs(key)) ?? HOUR;
    throw new AppError('PUSH_LIMIT_REACHED', { retryAfterSeconds: Math.ceil(remaining / 1000) });
  }
}

registerChannelKind({
  type: 'device',
  list(_services, trusted) {
    // One channel for all trusted devices: a code is pushed to every one of them.
    if (trusted.length === 0) return [];
    return [{ id: 'device', type: 'device', label: trusted.map((d) => d.label).join(', ') }];
  },
  async admit(services, challenge) {
    await takePush(services, challenge.accountId);
  },
  async deliver(services, challenge, _channelId, code) {
    const trusted = (await services.store.devices.listForAccount(challenge.accountId)).filter(
      (d) => d.trustedAt !== null,
    );
    const payload = {
      type: 'code',
      challengeId: challenge.id,
      code,
      purpose: challenge.purpose,
      expiresAt: challenge.expiresAt.toISOString(),
      context: challenge.context,
    };
    // With number matching the devices get the choices; the code waits for the right pick.
    const pushed = (await matchingApplies(services, challenge))
      ? await holdCodeForMatch(services, challenge, payload)
      : payload;
    // Older pushes of this challenge carry a code that no longer works.
    await services.store.devicePushes.removeForChallenge(challenge.id);
    await services.hub.push(
      trusted.map((d) => d.id),
      challenge.id,
      pushed,
      challenge.expiresAt,
    );
  },
});
