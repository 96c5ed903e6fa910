// Limits on sending codes (SPEC §5): per account 1 per 30 s and 10 per hour over every channel; SMS
// also per number, per client address and per country per day, against SMS pumping (SECURITY.md item 40).
import { DAY, HOUR } from '../../core/clock.ts';
import { AppError } from '../../core/errors.ts';
import type { Services } from '../context.ts';

async function takeFromBudget(services: Services, key: string, limit: number, windowMs: number): Promise<void> {
  const used = await services.kv.increment(key, windowMs);
  if (used > limit) {
    const remaining = (await services.kv.remainingMs(key)) ?? windowMs;
    throw new AppError('TOO_MANY_ATTEMPTS', { retryAfterSeconds: Math.ceil(remaining / 1000) });
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
  await takeFromBudget(services, `send:hour:${accountId}`, policy.codeSendsPerHour, HOUR);
}

export async function assertMaySendSms(
  services: Services,
  to: { e164: string; country: string | null },
  ip: string,
): Promise<void> {
  const { policy } = services.config;
  await takeFromBudget(services, `sms:number:${to.e164}`, policy.smsPerNumberPerDay, DAY);
  await takeFromBudget(services, `sms:ip:${ip}`, policy.smsPerIpPerDay, DAY);
  await takeFromBudget(services, `sms:country:${to.country ?? 'unknown'}`, policy.smsPerCountryPerDay, DAY);
}
