// Security notices to the account holder (SPEC §3.17), in the account's language.
import { type SecurityNotice, securityNoticeMessage } from '../delivery/email/messages.ts';
import type { Account } from '../store/accounts.ts';
import { isLocale } from '../text/index.ts';
import type { Services } from './context.ts';
import { sendSecurityEmail } from './not-me.ts';

/** Each notice carries its own "This wasn't me" link (flows/not-me.ts). */
export async function notifyOwner(
  services: Services,
  account: Account,
  notice: SecurityNotice,
  params: Record<string, string>,
): Promise<void> {
  const locale = isLocale(account.locale) ? account.locale : 'en';
  await sendSecurityEmail(services, account.id, notice, (notMe) =>
    securityNoticeMessage(
      { email: account.email, name: account.name, locale },
      notice,
      params,
      services.config.publicUrl,
      notMe,
    ),
  );
}
