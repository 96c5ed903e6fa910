// Alarms for the operator (SECURITY.md items 9 and 40). The per-address and per-account throttles
// stop one source; a credential-stuffing flood from thousands of rotating addresses passes them
// all, and SMS pumping spread over many numbers and addresses stays under every per-source budget
// while the bill grows. Neither is visible to one request, only to the server as a whole: so each
// failed sign-in and each text sent is counted server-wide, per clock hour, in the key-value store
// (shared by every node), and the first event past a threshold raises the alarm.
//
// Raised once per window over all nodes: the node that wins a set-if-absent claim on the window
// logs it (level error, a stable `alarm` field, never an email, address or secret), counts it in
// twostep_alarms_total and emails ALARM_EMAIL if set. Counting runs as background work after the
// request has answered: an alarm never delays a sign-in or a text, and a key-value failure here
// is logged, never turned into an error for the user.
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import { type Clock, HOUR, MINUTE } from '../core/clock.ts';
import type { Mailer } from '../delivery/email/mailer.ts';
import { alarmMessage } from '../delivery/email/operator-messages.ts';
import type { KeyValue } from '../store/kv/port.ts';
import type { BackgroundTasks } from './background.ts';
import type { AlarmKind, FlowMetrics } from './metrics.ts';

/** Fixed clock-hour windows: a flood at twice a threshold's rate always fills one window past it. */
const WINDOW_MS = HOUR;

export interface AlarmDeps {
  config: Config;
  kv: KeyValue;
  clock: Clock;
  log: Logger;
  metrics: FlowMetrics;
  mailer: Mailer;
  background: BackgroundTasks;
}

interface Watch {
  kind: AlarmKind;
  threshold: number;
  /** sms_country only: the ISO country of the number (`unknown` when it has none). */
  country?: string;
}

/** The log line's message per alarm; the `alarm` field is what dashboards and alert rules match. */
const MESSAGES: Record<AlarmKind, string> = {
  signin_failures: 'alarm: failed sign-ins over the hourly threshold (credential stuffing?)',
  sms: 'alarm: text messages over the hourly threshold (SMS pumping?)',
  sms_country: 'alarm: text messages to one country over the hourly threshold (SMS pumping?)',
};

export class Alarms {
  readonly #deps: AlarmDeps;
  /**
   * Windows whose alarm this node knows is raised (by itself or another node), with when they end:
   * past the threshold, a flood costs one increment per event here, not a claim too.
   */
  readonly #raised = new Map<string, number>();

  constructor(deps: AlarmDeps) {
    this.#deps = deps;
  }

  /** A sign-in refused for a wrong password or an unknown account (not one refused by the throttle). */
  failedSignIn(): void {
    this.#note({ kind: 'signin_failures', threshold: this.#deps.config.alarmFailedSigninsPerHour });
  }

  /** A text message accepted by the SMS provider. */
  smsSent(country: string | null): void {
    const { config } = this.#deps;
    this.#note({ kind: 'sms', threshold: config.alarmSmsPerHour });
    this.#note({ kind: 'sms_country', threshold: config.alarmSmsPerCountryPerHour, country: country ?? 'unknown' });
  }

  #note(watch: Watch): void {
    if (watch.threshold === 0) return;
    this.#deps.background.run(`alarm:${watch.kind}`, () => this.#count(watch));
  }

  async #count(watch: Watch): Promise<void> {
    const { kv, clock, log } = this.#deps;
    const now = clock.now().getTime();
    const windowStart = now - (now % WINDOW_MS);
    const window = `alarm:${watch.kind}:${watch.country ?? 'all'}:${windowStart}`;
    try {
      const count = await kv.increment(`${window}:count`, WINDOW_MS);
      if (count <= watch.threshold || this.#raised.has(window)) return;
      const claimed = await kv.setIfAbsent(`${window}:raised`, '1', WINDOW_MS);
      this.#remember(window, windowStart + WINDOW_MS, now);
      if (claimed) await this.#raise(watch, count, windowStart);
    } catch (error) {
      // Not `alarm`: that field is only on raised alarms.
      log.warn({ err: error, alarmKind: watch.kind }, 'an alarm counter could not be updated');
    }
  }

  #remember(window: string, endsAt: number, now: number): void {
    for (const [key, end] of this.#raised) if (end <= now) this.#raised.delete(key);
    this.#raised.set(window, endsAt);
  }

  async #raise(watch: Watch, count: number, windowStart: number): Promise<void> {
    const { config, log, metrics, mailer } = this.#deps;
    const fields = {
      alarm: watch.kind,
      count,
      threshold: watch.threshold,
      windowMinutes: WINDOW_MS / MINUTE,
      since: new Date(windowStart).toISOString(),
      ...(watch.country === undefined ? {} : { country: watch.country }),
    };
    log.error(fields, MESSAGES[watch.kind]);
    metrics.alarm(watch.kind);
    if (!config.alarmEmail) return;
    await mailer
      .send(alarmMessage(config.alarmEmail, { ...fields, server: config.publicUrl }))
      .catch((error: unknown) => log.warn({ err: error, alarmKind: watch.kind }, 'the alarm email could not be sent'));
  }
}
