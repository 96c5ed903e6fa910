// Codes by SMS to the account's verified phone numbers, where the rollout allows SMS for the number's
// country (SPEC §3.16). The text says what the code is for and never asks the reader to share it.
// Before a code is texted to a trusted phone, the carrier is asked whether its SIM changed lately
// (flows/sim-swap.ts): a recent change refuses the text with SIM_SWAP_SUSPECTED.
import { AppError } from '../../core/errors.ts';
import type { Phone } from '../../store/phones.ts';
import { isLocale, t } from '../../text/index.ts';
import type { Services } from '../context.ts';
import { assertSimNotSwapped } from '../sim-swap.ts';
import { registerChannelKind } from './index.ts';
import { assertMaySendSms } from './send-limits.ts';

registerChannelKind({
  type: 'sms',
  list(services, reachable) {
    if (!services.sms) return [];
    return reachable.map((p) => ({ id: `sms:${p.id}`, type: 'sms' as const, label: `•••• ${p.label.slice(-2)}` }));
  },
  async admit(services, challenge, channelId, ctx) {
    const phone = await phoneOf(services, channelId);
    await assertMaySendSms(services, phone, ctx.ip);
    await assertSimNotSwapped(services, phone, challenge.purpose, ctx);
  },
  async deliver(services, _challenge, channelId, code) {
    await sendSmsCode(services, await phoneOf(services, channelId), code);
  },
});

async function phoneOf(services: Services, channelId: string): Promise<Phone> {
  const phone = await services.store.phones.find(channelId.slice('sms:'.length));
  if (!phone || !services.sms) throw new AppError('VALIDATION_FAILED', { detail: { field: 'channel' } });
  return phone;
}

/** Texts the code; the SMS budgets (assertMaySendSms) must have been taken first. */
export async function sendSmsCode(
  services: Services,
  phone: { e164: string; accountId: string; country: string | null },
  code: string,
): Promise<void> {
  if (!services.sms) throw new AppError('SMS_DELIVERY_FAILED');
  const account = await services.store.accounts.findById(phone.accountId);
  const locale = isLocale(account?.locale) ? account.locale : 'en';
  await services.sms.send({ to: phone.e164, body: t(locale, 'sms.code', { code }), code });
  // The spend alarm counts what the provider accepted (and bills), not what was asked for.
  services.alarms.smsSent(phone.country);
}
