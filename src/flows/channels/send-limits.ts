// Limits on sending codes (SPEC §5): per account 1 per 30 s and 10 per hour over every channel; SMS
// also per account and per number per day, per client address, per country and in all per day,
// against SMS pumping (SECURITY.md item 40).
import { DAY, HOUR } from '../../core/clock.ts';
import { AppError, type ErrorCode } from '../../core/errors.ts';
import type { Services } from '../context.ts';

/** Which SMS budget ran out, in the answer's `detail.limit`: a client can tell its user what to try instead. */
export type SmsLimit = 'account' | 'number' | 'ip' | 'country' | 'all';

async function takeFromBudget(
  services: Services,
  key: string,
  limit: number,
  windowMs: number,
  refusal: { code: ErrorCode; detail?: Record<string, string> },
): Promise<void> {
  const used = await services.kv.increment(key, windowMs);
  if (used > limit) {
    const remaining = (await services.kv.remainingMs(key)) ?? windowMs;
    throw new AppError(refusal.code, {
      retryAfterSeconds: Math.ceil(remaining / 1000),
      ...(refusal.detail ? { detail: refusal.detail } : {}),
    });
  }
}

/**
 * `target` is where the code goes (a phone, a device, the devices of the account): the 30-second gap
 * stops resends to one target, while the hourly budget counts every code of the account.
 */
export async function assertMaySendCode(services: Services, accountId: string, target: string): Promise<void> {
  const { policy } = services.config;
  if (policy.codeSendIntervalSeconds > 0) {
    const key = `send:gap:${accountId}:${target}`;
    if (!(await services.kv.setIfAbsent(key, '1', policy.codeSendIntervalSeconds * 1000))) {
      const remaining = (await services.kv.remainingMs(key)) ?? policy.codeSendIntervalSeconds * 1000;
      throw new AppError('TOO_MANY_ATTEMPTS', { retryAfterSeconds: Math.ceil(remaining / 1000) });
    }
  }
  await takeFromBudget(services, `send:hour:${accountId}`, policy.codeSendsPerHour, HOUR, {
    code: 'TOO_MANY_ATTEMPTS',
  });
}

/**
 * The SMS budgets, narrowest first. A refusal is SMS_LIMIT_REACHED, not TOO_MANY_ATTEMPTS: only text
 * messages are capped, so the user can still take a code on a trusted device or an authenticator app.
 */
export async function assertMaySendSms(
  services: Services,
  to: { e164: string; country: string | null; accountId: string },
  ip: string,
): Promise<void> {
  const { policy } = services.config;
  const budgets: [SmsLimit, string, number][] = [
    ['account', `sms:account:${to.accountId}`, policy.smsPerAccountPerDay],
    ['number', `sms:number:${to.e164}`, policy.smsPerNumberPerDay],
    ['ip', `sms:ip:${ip}`, policy.smsPerIpPerDay],
    ['country', `sms:country:${to.country ?? 'unknown'}`, policy.smsPerCountryPerDay],
    ['all', 'sms:all', policy.smsPerDay],
  ];
  for (const [limit, key, max] of budgets) {
    await takeFromBudget(services, key, max, DAY, { code: 'SMS_LIMIT_REACHED', detail: { limit } });
  }
}
