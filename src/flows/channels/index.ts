// Where a code can go (SPEC §7 channel types). Each kind of channel is its own module in this
// folder and registers itself here; challenges never switch on the type (DESIGN.md convention 2).
import { AppError } from '../../core/errors.ts';
import { keysReplaceCodes } from '../../core/security-key-policy.ts';
import type { Challenge } from '../../store/challenges.ts';
import type { ChannelRow } from '../../store/second-factors.ts';
import type { RequestContext, Services } from '../context.ts';
import { assertMaySendCode } from './send-limits.ts';

export interface Channel {
  id: string;
  type: 'device' | 'sms' | 'totp' | 'webauthn';
  label: string;
}

export interface ChannelKind {
  type: Channel['type'];
  /** The channels of this kind the account can use now, from its rows of the account's second steps (oldest first). */
  list(services: Services, rows: ChannelRow[]): Channel[];
  /**
   * Refuses (throws) when this channel may not take a code now, e.g. its send budget is spent. Runs
   * before the new code replaces the old one, so a refused send leaves the code already delivered
   * elsewhere working.
   */
  admit?(services: Services, challenge: Challenge, channelId: string, ctx: RequestContext): Promise<void>;
  /** Delivers `code` for `challenge` to the channel. */
  deliver(
    services: Services,
    challenge: Challenge,
    channelId: string,
    code: string,
    ctx: RequestContext,
  ): Promise<void>;
}

const kinds: ChannelKind[] = [];

export function registerChannelKind(kind: ChannelKind): void {
  kinds.push(kind);
}

export async function listChannels(services: Services, accountId: string): Promise<Channel[]> {
  const rows = await services.store.secondFactors.channelRowsOf(accountId);
  const channels = kinds.flatMap((kind) =>
    kind.list(
      services,
      rows.filter((row) => row.kind === kind.type),
    ),
  );
  // Under Apple's rules enough security keys replace every code (core/security-key-policy.ts).
  const keys = channels.filter((channel) => channel.type === 'webauthn');
  return keysReplaceCodes(services.config.policy.securityKeyRules, keys.length) ? keys : channels;
}

/** Whether the account answers sign-ins and step-ups with security keys only (no code is sent or accepted). */
export async function codesReplacedByKeys(services: Services, accountId: string): Promise<boolean> {
  const rules = services.config.policy.securityKeyRules;
  if (rules === 'open') return false;
  return keysReplaceCodes(rules, (await services.store.securityKeys.listForAccount(accountId)).length);
}

/** A new code for the challenge, sent through one of the account's channels (SPEC §7 "send a code"). */
export async function sendCodeThrough(
  services: Services,
  challenge: Challenge,
  channelId: string,
  newCode: () => Promise<string>,
  ctx: RequestContext,
): Promise<Channel> {
  const channel = (await listChannels(services, challenge.accountId)).find((c) => c.id === channelId);
  const kind = channel && kinds.find((k) => k.type === channel.type);
  if (channel && kind) {
    await assertMaySendCode(services, challenge.accountId, channelId);
    await kind.admit?.(services, challenge, channelId, ctx);
    await kind.deliver(services, challenge, channelId, await newCode(), ctx);
    services.metrics.codeSent(channel.type);
    return channel;
  }
  throw new AppError('VALIDATION_FAILED', { detail: { field: 'channel' } });
}
