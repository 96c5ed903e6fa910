// What every flow gets: the services it may use, and who is asking.
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { Clock } from '../core/clock.ts';
import type { PasswordChecks } from '../core/password-policy.ts';
import type { Mailer } from '../delivery/email/mailer.ts';
import type { PushHub } from '../delivery/push/hub.ts';
import type { SimSwapCheck } from '../delivery/sim-swap/check.ts';
import type { SmsSender } from '../delivery/sms/sender.ts';
import type { PasswordHasher } from '../passwords/hasher.ts';
import type { AccountRevisions } from '../store/account-revisions.ts';
import type { Store } from '../store/index.ts';
import type { KeyValue } from '../store/kv/port.ts';
import type { Locale } from '../text/index.ts';
import type { Alarms } from './alarms.ts';
import type { BackgroundTasks } from './background.ts';
import type { FlowMetrics } from './metrics.ts';
import type { SessionCache } from './session-cache.ts';

export interface Services {
  config: Config;
  store: Store;
  kv: KeyValue;
  hasher: PasswordHasher;
  clock: Clock;
  mailer: Mailer;
  hub: PushHub;
  /** Undefined when SMS is off (SMS_PROVIDER=none). */
  sms: SmsSender | undefined;
  /** Asked before a code is texted whether the number's SIM changed lately (SIM_SWAP_CHECK). */
  simSwap: SimSwapCheck;
  passwordChecks: PasswordChecks;
  log: Logger;
  background: BackgroundTasks;
  metrics: FlowMetrics;
  /** Server-wide counts that raise an alarm for the operator (flows/alarms.ts). */
  alarms: Alarms;
  /** Moved by every write to what a session check reads (store/revision-watch.ts). */
  revisions: AccountRevisions;
  /** Undefined when off (SESSION_CACHE_SECONDS=0, or PostgreSQL without Redis: see app.ts). */
  sessionCache: SessionCache | undefined;
}

export interface RequestContext {
  ip: string;
  userAgent: string | null;
  locale: Locale;
}

/** The audit columns that say where a request came from. */
export function origin(ctx: RequestContext): { ip: string; userAgent: string | null } {
  return { ip: ctx.ip, userAgent: ctx.userAgent };
}
