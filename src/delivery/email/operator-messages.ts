// Emails to the operator, not to an account holder: the alarms (flows/alarms.ts). In English, the
// language of the logs and docs/operations.md they point to. They carry counts and thresholds only,
// never an account's email, an address or a secret.
import type { AlarmKind } from '../../flows/metrics.ts';
import { t } from '../../text/index.ts';
import type { EmailMessage } from './mailer.ts';

export interface AlarmFacts {
  alarm: AlarmKind;
  count: number;
  threshold: number;
  windowMinutes: number;
  /** ISO time the window began. */
  since: string;
  /** sms_country only. */
  country?: string;
  /** PUBLIC_URL: which deployment raised it. */
  server: string;
}

export function alarmMessage(to: string, facts: AlarmFacts): EmailMessage {
  const params = { ...facts };
  return {
    to,
    subject: t('en', `email.alarm.subject.${facts.alarm}`, params),
    text: t('en', 'email.alarm.body', params),
    links: [],
  };
}
