// Trusted devices (SPEC §3.5, docs/device-protocol.md): register a device's public key, verify it
// with a code pushed to it, authenticate its live connection, remove it.
import { type DevicePublicKey, deviceSignatureValid, parseDevicePublicKey } from '../core/device-signature.ts';
import { AppError } from '../core/errors.ts';
import { issueToken, secretMatches, splitToken } from '../core/tokens.ts';
import { challengeDeniedMessage, deviceRemovedMessage, deviceTrustedMessage } from '../delivery/email/messages.ts';
import type { Account } from '../store/accounts.ts';
import type { Device } from '../store/devices.ts';
import { isLocale } from '../text/index.ts';
import {
  answerChallenge,
  denyChallenge,
  type IssuedChallenge,
  issueChallenge,
  onChallengeCompleted,
} from './challenges.ts';
import { assertMaySendCode } from './channels/send-limits.ts';
import { origin, type RequestContext, type Services } from './context.ts';
import { sendSecurityEmail } from './not-me.ts';
import type { RequestOrigin } from './request-origin.ts';
import { assertKeepsSecondStep } from './second-steps.ts';
import type { AuthenticatedSession } from './sessions.ts';
import { requireRecentTwoStep } from './step-up.ts';

const MAX_DEVICES = 20;

function recipient(account: Account) {
  return {
    email: account.email,
    name: account.name,
    locale: isLocale(account.locale) ? account.locale : ('en' as const),
  };
}

export interface DeviceView {
  id: string;
  name: string;
  model: string;
  trusted: boolean;
  pairedAt: Date;
  trustedAt: Date | null;
  lastSeenAt: Date | null;
}

export function deviceView(device: Device): DeviceView {
  return {
    id: device.id,
    name: device.name,
    model: device.model,
    trusted: device.trustedAt !== null,
    pairedAt: device.createdAt,
    trustedAt: device.trustedAt,
    lastSeenAt: device.lastSeenAt,
  };
}

function cleanLabel(raw: string, fallback: string): string {
  const value = raw
    .normalize('NFC')
    .replace(/[\p{Cc}\p{Cf}]/gu, '')
    .trim()
    .slice(0, 60);
  return value || fallback;
}

/** Registers the device's public key for the signed-in account; the credential is returned once. */
export async function registerDevice(
  services: Services,
  auth: AuthenticatedSession,
  input: { name: string; model: string; publicKey: unknown },
  ctx: RequestContext,
): Promise<{ device: DeviceView; credential: string }> {
  requireRecentTwoStep(services, auth);
  const publicKey = parseDevicePublicKey(input.publicKey);
  if (!publicKey) throw new AppError('INVALID_PUBLIC_KEY');
  const { store, clock } = services;
  const existing = await store.devices.listForAccount(auth.account.id);
  if (existing.length >= MAX_DEVICES)
    throw new AppError('VALIDATION_FAILED', { detail: { field: 'devices', max: MAX_DEVICES } });
  const now = clock.now();
  const issued = issueToken();
  const device: Device = {
    id: issued.id,
    accountId: auth.account.id,
    name: cleanLabel(input.name, 'Device'),
    model: cleanLabel(input.model, 'Unknown model'),
    publicKey,
    credentialHash: issued.secretHash,
    createdAt: now,
    trustedAt: null,
    lastSeenAt: null,
  };
  await store.transaction(async (tx) => {
    await tx.devices.register(device);
    await tx.audit.record({
      accountId: auth.account.id,
      actor: `account:${auth.account.id}`,
      event: 'device.registered',
      at: now,
      ...origin(ctx),
      details: { device: device.id, name: device.name, model: device.model },
    });
  });
  return { device: deviceView(device), credential: issued.token };
}

export async function listDevices(services: Services, accountId: string): Promise<DeviceView[]> {
  return (await services.store.devices.listForAccount(accountId)).map(deviceView);
}

async function ownDevice(services: Services, accountId: string, deviceId: string): Promise<Device> {
  const device = await services.store.devices.find(deviceId);
  if (!device || device.accountId !== accountId) throw new AppError('NOT_FOUND');
  return device;
}

/** Pushes a verification code to this device only; the owner types it back with answerChallenge. */
export async function startDeviceVerification(
  services: Services,
  auth: AuthenticatedSession,
  deviceId: string,
  ctx: RequestContext,
): Promise<IssuedChallenge> {
  requireRecentTwoStep(services, auth);
  const device = await ownDevice(services, auth.account.id, deviceId);
  await assertMaySendCode(services, auth.account.id, `device:${device.id}`);
  return issueChallenge(
    services,
    { accountId: auth.account.id, purpose: 'verify_device', subject: device.id, deviceIds: [device.id] },
    ctx,
  );
}

onChallengeCompleted('verify_device', async (services, tx, challenge, ctx) => {
  const deviceId = challenge.subject ?? '';
  if (!(await tx.devices.markTrusted(challenge.accountId, deviceId, services.clock.now())))
    throw new AppError('NOT_FOUND');
  await tx.audit.record({
    accountId: challenge.accountId,
    actor: `account:${challenge.accountId}`,
    event: 'device.trusted',
    at: services.clock.now(),
    ...origin(ctx),
    details: { device: deviceId },
  });
});

/** The owner typed the code shown on the device. */
export async function confirmDeviceVerification(
  services: Services,
  auth: AuthenticatedSession,
  challengeId: string,
  code: string,
  ctx: RequestContext,
): Promise<DeviceView> {
  const challenge = await answerChallenge(services, auth.account.id, challengeId, code, ctx);
  const device = await ownDevice(services, auth.account.id, challenge.subject ?? '');
  await services.hub.notify([device.id], { type: 'trusted' });
  await sendSecurityEmail(services, auth.account.id, 'deviceTrusted', (notMe) =>
    deviceTrustedMessage(recipient(auth.account), device, services.config.publicUrl, notMe),
  );
  return deviceView(device);
}

export async function removeDevice(
  services: Services,
  account: Account,
  deviceId: string,
  ctx: RequestContext,
  actor = `account:${account.id}`,
): Promise<void> {
  const device = await ownDevice(services, account.id, deviceId);
  const now = services.clock.now();
  await services.store.transaction(async (tx) => {
    await assertKeepsSecondStep(services, tx, account.id, { deviceId });
    if (!(await tx.devices.remove(account.id, deviceId, now))) throw new AppError('NOT_FOUND');
    await tx.audit.record({
      accountId: account.id,
      actor,
      event: 'device.removed',
      at: now,
      ...origin(ctx),
      details: { device: deviceId, name: device.name },
    });
  });
  await services.hub.disconnect(deviceId);
  await sendSecurityEmail(services, account.id, 'deviceRemoved', (notMe) =>
    deviceRemovedMessage(recipient(account), device, services.config.publicUrl, notMe),
  );
}

/** The device behind a credential, or undefined: malformed, unknown, removed or wrong secret. */
export async function deviceForCredential(
  services: Services,
  credential: string | undefined,
): Promise<Device | undefined> {
  const parts = credential ? splitToken(credential) : undefined;
  if (!parts) return undefined;
  const device = await services.store.devices.find(parts.id);
  return device && secretMatches(parts.secret, device.credentialHash) ? device : undefined;
}

/** Proof of possession for the live connection: the credential and a signature over this connection's nonce. */
export async function authenticateDevice(
  services: Services,
  credential: string | undefined,
  nonce: string,
  signature: string,
): Promise<Device | undefined> {
  const device = await deviceForCredential(services, credential);
  if (!device || !deviceSignatureValid(device.publicKey as DevicePublicKey, nonce, signature)) return undefined;
  await services.store.devices.touch(device.id, services.clock.now());
  return device;
}

/** "This wasn't me": cancel, and tell the owner by email. */
export async function denyFromDevice(
  services: Services,
  device: Device,
  challengeId: string,
  ctx: RequestContext,
): Promise<boolean> {
  const challenge = await services.store.challenges.find(challengeId);
  if (!(await denyChallenge(services, device, challengeId, ctx)) || !challenge) return false;
  const account = await services.store.accounts.findById(device.accountId);
  if (account)
    await sendSecurityEmail(services, account.id, 'challengeDenied', (notMe) =>
      challengeDeniedMessage(
        recipient(account),
        challenge.context as unknown as RequestOrigin,
        services.config.publicUrl,
        notMe,
      ),
    );
  return true;
}
