// The staff second factor: TOTP (RFC 6238) from an authenticator app. The secret is stored sealed
// (AES-256-GCM, key derived from TWOSTEP_SECRET: core/seal.ts), because the server must read it back.
// A code is accepted at most once: the first request to claim its time step wins (an atomic
// set-if-absent in the key-value store, shared by every node), so a code seen over a shoulder or in a
// proxy log is useless after its owner used it (RFC 6238 §5.2).
import { keyring, type SecretSettings } from '../../core/secrets.ts';
import { matchTotp, TOTP_PERIOD_SECONDS } from '../../core/totp.ts';
import type { StaffMember } from '../../store/staff.ts';
import type { Services } from '../context.ts';

export const STAFF_TOTP_SEAL = 'staff-totp';

export function sealTotpSecret(config: SecretSettings, secretBase32: string): string {
  return keyring(config).seal(STAFF_TOTP_SEAL, secretBase32);
}

/** Under the current TWOSTEP_SECRET or a previous one. */
export function openTotpSecret(config: SecretSettings, sealed: string): string | undefined {
  return keyring(config).unsealAny(STAFF_TOTP_SEAL, sealed)?.plaintext;
}

/** True when the code is right for this member now and its time step was not used before. */
export async function acceptTotpCode(services: Services, member: StaffMember, code: string): Promise<boolean> {
  if (!member.totp_secret_sealed) return false;
  const secret = openTotpSecret(services.config, member.totp_secret_sealed);
  if (!secret) return false;
  const step = matchTotp(secret, code, services.clock.now());
  if (step === undefined) return false;
  // Kept a little longer than the steps that can still match (the current one and one back).
  const keepMs = 3 * TOTP_PERIOD_SECONDS * 1000;
  return services.kv.setIfAbsent(`staff-totp:${member.id}:${step}`, '1', keepMs);
}
