// What the flows count for /metrics (http/metrics.ts serves the registry). Each app has its own
// registry, so several apps in one process (tests) never share a counter. Labels are closed sets
// (outcomes, purposes, channel types): never an id, an email or anything a client chose.
import { Counter, Registry } from 'prom-client';

export type SignInOutcome = 'signed_in' | 'two_step_required' | 'failed';
export type CodeOutcome = 'ok' | 'wrong';
export type Lockout = 'locked' | 'timed' | 'recovery_paused';
/** hit: answered from this node's cache; miss: read from the database; unavailable: revisions unreadable (Redis away). */
export type SessionCacheOutcome = 'hit' | 'miss' | 'unavailable';
/** A SIM-swap check before a text: its verdict, or `failed` when the lookup failed or timed out. */
export type SimSwapOutcome = 'suspected' | 'clear' | 'unknown' | 'failed';
/** What an alarm is about (flows/alarms.ts): failed sign-ins in all, texts in all, texts to one country. */
export type AlarmKind = 'signin_failures' | 'sms' | 'sms_country';

export interface FlowMetrics {
  readonly registry: Registry;
  /** signed_in: a session started (with or without a code); two_step_required: right password, a code asked; failed: wrong password or no such account. */
  signIn(outcome: SignInOutcome): void;
  codeVerified(purpose: string, outcome: CodeOutcome): void;
  codeSent(channel: string): void;
  pushDelivered(): void;
  lockout(kind: Lockout): void;
  sessionCheck(outcome: SessionCacheOutcome): void;
  simSwapCheck(outcome: SimSwapOutcome, source: 'lookup' | 'cache'): void;
  /** Counted by the one node that raised the alarm: summed over nodes, one per alarm. */
  alarm(kind: AlarmKind): void;
}

export function createFlowMetrics(): FlowMetrics {
  const registry = new Registry();
  const signIns = new Counter({
    name: 'twostep_signins_total',
    help: 'Sign-in steps by outcome: signed_in (a session started), two_step_required (a code asked), failed',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const verified = new Counter({
    name: 'twostep_codes_verified_total',
    help: 'Answers to code challenges by purpose and outcome (ok, wrong)',
    labelNames: ['purpose', 'outcome'],
    registers: [registry],
  });
  const sent = new Counter({
    name: 'twostep_codes_sent_total',
    help: 'Verification codes sent, by channel (device, sms, …)',
    labelNames: ['channel'],
    registers: [registry],
  });
  const pushes = new Counter({
    name: 'twostep_pushes_delivered_total',
    help: 'Messages written to a device socket on this node',
    registers: [registry],
  });
  const lockouts = new Counter({
    name: 'twostep_budget_lockouts_total',
    help: 'Wrong-code budgets spent: locked (two-step account), timed (timed lock), recovery_paused',
    labelNames: ['kind'],
    registers: [registry],
  });
  const sessionChecks = new Counter({
    name: 'twostep_session_cache_total',
    help: "Session checks by where they were answered from: hit (this node's cache), miss (the database), unavailable (revisions unreadable: the database, nothing cached)",
    labelNames: ['outcome'],
    registers: [registry],
  });
  const simSwapChecks = new Counter({
    name: 'twostep_sim_swap_checks_total',
    help: 'SIM-swap checks before a code is texted, by outcome (suspected, clear, unknown: the carrier has no data, failed: the lookup failed or timed out) and source (lookup, cache)',
    labelNames: ['outcome', 'source'],
    registers: [registry],
  });
  const alarms = new Counter({
    name: 'twostep_alarms_total',
    help: 'Alarms raised (once per window over all nodes, counted by the node that raised it): signin_failures, sms, sms_country',
    labelNames: ['kind'],
    registers: [registry],
  });
  return {
    registry,
    simSwapCheck: (outcome, source) => simSwapChecks.inc({ outcome, source }),
    alarm: (kind) => alarms.inc({ kind }),
    sessionCheck: (outcome) => sessionChecks.inc({ outcome }),
    signIn: (outcome) => signIns.inc({ outcome }),
    codeVerified: (purpose, outcome) => verified.inc({ purpose, outcome }),
    codeSent: (channel) => sent.inc({ channel }),
    pushDelivered: () => pushes.inc(),
    lockout: (kind) => lockouts.inc({ kind }),
  };
}
