// Security keys and passkeys as a channel (SPEC §7 type `webauthn`): one per usable key. Nothing is
// delivered: the browser runs the WebAuthn ceremony against options for the challenge
// (security-key-proof.ts). A client that "sends" anyway gets a no-op.
import { keysAreUsable } from '../security-key-proof.ts';
import { registerChannelKind } from './index.ts';

registerChannelKind({
  type: 'webauthn',
  list(services, keys) {
    if (!keysAreUsable(services, keys.length)) return [];
    return keys.map((k) => ({ id: `webauthn:${k.id}`, type: 'webauthn' as const, label: k.label }));
  },
  async deliver() {},
});
