// Authenticator apps (TOTP) as a channel (SPEC §7 type `totp`): one per confirmed app. Nothing is
// delivered: the app computes the code itself, and challenges.ts accepts it for a sign-in, step-up or
// recovery challenge without any send (flows/authenticator-codes.ts). A client that "sends" anyway gets a no-op.
import { registerChannelKind } from './index.ts';

registerChannelKind({
  type: 'totp',
  list(_services, confirmed) {
    return confirmed.map((a) => ({ id: `totp:${a.id}`, type: 'totp' as const, label: a.label }));
  },
  async deliver() {},
});
