// Codes by push to every trusted device of the account (SPEC §3.6), with where the request came from.
import { registerChannelKind } from './index.ts';

registerChannelKind({
  async list(services, accountId) {
    const trusted = (await services.store.devices.listForAccount(accountId)).filter((d) => d.trustedAt !== null);
    if (trusted.length === 0) return [];
    return [{ id: 'device', type: 'device', label: trusted.map((d) => d.name).join(', ') }];
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
    // Older pushes of this challenge carry a code that no longer works.
    await services.store.devicePushes.removeForChallenge(challenge.id);
    await services.hub.push(
      trusted.map((d) => d.id),
      challenge.id,
      payload,
      challenge.expiresAt,
    );
  },
});
