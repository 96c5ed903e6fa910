// One typed configuration for the whole server. Every setting has an environment variable and a
// command-line flag; `twostep config` prints the effective values with secrets masked, and
// docs/configuration.md is the same table in prose. Values are checked at boot, each bad value with
// its own message, and production refuses the development defaults (the outbox, a generated secret).
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SecurityKeyRules } from './core/security-key-policy.ts';

export type Environment = 'development' | 'test' | 'production';

export interface Policy {
  passwordMinLength: number;
  passwordMaxLength: number;
  argon2MemoryKib: number;
  argon2Iterations: number;
  sessionIdleMinutes: number;
  sessionAbsoluteHours: number;
  emailTokenHours: number;
  signinFreeFailures: number;
  signinFreeFailuresPerIp: number;
  signinMaxDelaySeconds: number;
  codeLength: number;
  codeLifetimeMinutes: number;
  codeAttemptsPerChallenge: number;
  wrongCodesPerAccount: number;
  codeLockMinutes: number;
  codeLockMaxMinutes: number;
  recoveryPauseHours: number;
  codeSendsPerHour: number;
  codeSendIntervalSeconds: number;
  smsPerAccountPerDay: number;
  smsPerNumberPerDay: number;
  smsPerIpPerDay: number;
  smsPerCountryPerDay: number;
  smsPerDay: number;
  waitingPeriodDays: number;
  recentVerificationMinutes: number;
  trustedBrowserDays: number;
  oidcAccessTokenMinutes: number;
  oidcRefreshTokenDays: number;
  knownBrowserDays: number;
  notMeLinkDays: number;
  pushesPerHour: number;
  numberMatching: boolean;
  securityKeyRules: SecurityKeyRules;
  passkeySignIn: boolean;
  passwordResetLinkMinutes: number;
  passwordResetIntervalSeconds: number;
  recoveryMinutes: number;
  appPasswordsMax: number;
}

/** The PostgreSQL connection pool (PGlite has one connection and ignores these, except slowQueryMs). */
export interface DatabaseSettings {
  poolSize: number;
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  statementTimeoutMs: number;
  slowQueryMs: number;
}

export interface Config {
  env: Environment;
  port: number;
  host: string;
  publicUrl: string;
  dataDir: string;
  databaseUrl: string | undefined;
  redisUrl: string | undefined;
  database: DatabaseSettings;
  /** Threads of libuv's pool, where argon2 hashes run (UV_THREADPOOL_SIZE, set by `twostep serve`). */
  argon2Threads: number;
  /** Each node's memory of checked sessions (flows/session-cache.ts); 0 seconds turns it off. */
  sessionCacheSeconds: number;
  sessionCacheEntries: number;
  secret: string;
  secretSource: 'configured' | 'generated';
  /** Comma-separated earlier values of TWOSTEP_SECRET: they still verify and unseal, never key or seal (core/secrets.ts). */
  secretPrevious: string | undefined;
  smtpUrl: string | undefined;
  mailFrom: string;
  logLevel: string;
  trustProxy: boolean;
  bodyLimitBytes: number;
  metricsToken: string | undefined;
  /** Alarms (flows/alarms.ts): events per clock hour, server-wide, that raise one; 0 turns one off. */
  alarmFailedSigninsPerHour: number;
  alarmSmsPerHour: number;
  alarmSmsPerCountryPerHour: number;
  /** Where each raised alarm is also emailed; unset: the log line and the metric only. */
  alarmEmail: string | undefined;
  /** Comma-separated; the first signs the OpenID Connect provider's cookies, all verify. */
  oidcCookieKeys: string | undefined;
  sms: {
    provider: 'outbox' | 'twilio' | 'webhook' | 'none';
    twilioBaseUrl: string;
    twilioAccountSid: string | undefined;
    twilioAuthToken: string | undefined;
    twilioFrom: string | undefined;
    webhookUrl: string | undefined;
    webhookSecret: string | undefined;
  };
  /** The SIM-swap / porting check before a code is texted (flows/sim-swap.ts, SECURITY.md item 16). */
  simSwapCheck: 'none' | 'twilio' | 'webhook';
  simSwapDays: number;
  /** What a lookup that fails or times out means: send the code anyway, or refuse the text. */
  simSwapOnFailure: 'send' | 'refuse';
  simSwapTimeoutMs: number;
  simSwapCacheSeconds: number;
  twilioLookupBaseUrl: string;
  simSwapWebhookUrl: string | undefined;
  simSwapWebhookSecret: string | undefined;
  policy: Policy;
}

type Kind = 'string' | 'url' | 'int' | 'bool' | 'enum';

interface Field {
  key: string; // dotted path into Config
  env: string;
  kind: Kind;
  description: string;
  default?: string;
  values?: readonly string[];
  min?: number;
  max?: number;
  secret?: 'whole' | 'url-password';
}

/**
 * With 4-digit codes a guess is 100 times likelier than with 6 (SPEC §5: "then attempt budgets
 * tighten"). The budgets cannot shrink 100-fold and stay usable, so they shrink to what a person
 * with typos still gets through: 3 tries per code, and the account locks after 5 wrong codes in a
 * row, where a guesser's chance is 5 in 10,000 (6 digits with the defaults: 10 in 1,000,000).
 * Only where the operator set nothing: an explicit value is their choice.
 */
const SHORT_CODE_BUDGETS = { CODE_ATTEMPTS_PER_CHALLENGE: 3, WRONG_CODES_PER_ACCOUNT: 5 } as const;

/** The schema: one row per setting, in the order `twostep config` prints them. */
export const configFields: readonly Field[] = [
  {
    key: 'env',
    env: 'NODE_ENV',
    kind: 'enum',
    values: ['development', 'test', 'production'],
    default: 'development',
    description: 'development allows the outbox and a generated secret; production refuses them',
  },
  { key: 'port', env: 'PORT', kind: 'int', min: 0, max: 65535, default: '3000', description: 'HTTP port' },
  {
    key: 'host',
    env: 'HOST',
    kind: 'string',
    default: 'localhost',
    description: 'address to listen on (0.0.0.0 for every interface)',
  },
  {
    key: 'publicUrl',
    env: 'PUBLIC_URL',
    kind: 'url',
    description:
      'the URL users reach; links in emails are built from it, never from the request (default http://localhost:PORT)',
  },
  {
    key: 'dataDir',
    env: 'DATA_DIR',
    kind: 'string',
    default: './data',
    description: 'folder of the embedded database and the generated development secret',
  },
  {
    key: 'databaseUrl',
    env: 'DATABASE_URL',
    kind: 'url',
    secret: 'url-password',
    description: 'postgres:// URL of a PostgreSQL server; unset: embedded PGlite in DATA_DIR',
  },
  {
    key: 'redisUrl',
    env: 'REDIS_URL',
    kind: 'url',
    secret: 'url-password',
    description: 'redis:// URL; unset: attempt counters and rate limits are kept in memory (one node only)',
  },
  {
    key: 'database.poolSize',
    env: 'DATABASE_POOL_SIZE',
    kind: 'int',
    min: 1,
    max: 1000,
    default: '10',
    description:
      "PostgreSQL connections per node; nodes × this must stay below the server's max_connections (or its pooler's)",
  },
  {
    key: 'database.connectTimeoutMs',
    env: 'DATABASE_CONNECT_TIMEOUT_MS',
    kind: 'int',
    min: 100,
    max: 600000,
    default: '5000',
    description: 'a request waiting this long for a PostgreSQL connection (a new one or a free one in the pool) fails',
  },
  {
    key: 'database.idleTimeoutMs',
    env: 'DATABASE_IDLE_TIMEOUT_MS',
    kind: 'int',
    min: 0,
    max: 3600000,
    default: '10000',
    description: 'a pooled PostgreSQL connection unused this long is closed (0: never)',
  },
  {
    key: 'database.statementTimeoutMs',
    env: 'DATABASE_STATEMENT_TIMEOUT_MS',
    kind: 'int',
    min: 0,
    max: 3600000,
    default: '30000',
    description: 'PostgreSQL cancels any statement running longer (statement_timeout; 0: no limit)',
  },
  {
    key: 'database.slowQueryMs',
    env: 'SLOW_QUERY_MS',
    kind: 'int',
    min: 1,
    max: 3600000,
    default: '200',
    description: 'queries slower than this are logged at warn with their SQL text, never their parameters',
  },
  {
    key: 'argon2Threads',
    env: 'ARGON2_THREADS',
    kind: 'int',
    min: 1,
    max: 1024,
    default: '4',
    description:
      "threads of libuv's pool, where argon2 hashes run off the event loop (shared with file and DNS work); `twostep serve` sets UV_THREADPOOL_SIZE from it before the pool starts. About one per core given to the node",
  },
  {
    key: 'sessionCacheSeconds',
    env: 'SESSION_CACHE_SECONDS',
    kind: 'int',
    min: 0,
    max: 3600,
    default: '60',
    description:
      "how long a node reuses a session it checked, while the account's revision in the key-value store is unchanged (every change to the account, its sessions, phones or devices moves it, so a revoked session fails on its next request on every node); 0 turns the cache off. Used with REDIS_URL or the embedded database; off for PostgreSQL without Redis, where another process could change the database unseen",
  },
  {
    key: 'sessionCacheEntries',
    env: 'SESSION_CACHE_ENTRIES',
    kind: 'int',
    min: 1,
    max: 10000000,
    default: '50000',
    description: 'most sessions a node keeps in its session cache (about 2 KiB each); the least recently used go first',
  },
  {
    key: 'secret',
    env: 'TWOSTEP_SECRET',
    kind: 'string',
    secret: 'whole',
    description:
      'at least 32 characters; keys the code hashes, CSRF tokens and WebAuthn challenges and seals the authenticator, OIDC client and signing secrets. Development generates one in DATA_DIR',
  },
  {
    key: 'secretPrevious',
    env: 'TWOSTEP_SECRET_PREVIOUS',
    kind: 'string',
    secret: 'whole',
    description:
      'comma-separated earlier values of TWOSTEP_SECRET (each at least 32 characters) during a rotation: they still verify codes, forms and challenges and unseal, but nothing new is keyed or sealed with them (docs/operations.md, Key rotation)',
  },
  {
    key: 'smtpUrl',
    env: 'SMTP_URL',
    kind: 'url',
    secret: 'url-password',
    description:
      'smtp:// or smtps:// URL of the mail relay; unset: email goes to the development outbox at /dev/outbox',
  },
  {
    key: 'mailFrom',
    env: 'MAIL_FROM',
    kind: 'string',
    default: 'Twostep <no-reply@localhost>',
    description: 'sender of every email',
  },
  {
    key: 'logLevel',
    env: 'LOG_LEVEL',
    kind: 'enum',
    values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
    default: 'info',
    description: 'log level',
  },
  {
    key: 'trustProxy',
    env: 'TRUST_PROXY',
    kind: 'bool',
    default: 'false',
    description: 'trust X-Forwarded-For from a reverse proxy for the client address',
  },
  {
    key: 'bodyLimitBytes',
    env: 'BODY_LIMIT_BYTES',
    kind: 'int',
    min: 1024,
    max: 10485760,
    default: '65536',
    description: 'largest request body accepted',
  },
  {
    key: 'metricsToken',
    env: 'METRICS_TOKEN',
    kind: 'string',
    secret: 'whole',
    description: 'when set, /metrics answers only requests with this bearer token',
  },
  {
    key: 'alarmFailedSigninsPerHour',
    env: 'ALARM_FAILED_SIGNINS_PER_HOUR',
    kind: 'int',
    min: 0,
    max: 100000000,
    default: '1000',
    description:
      'failed sign-ins (wrong password or unknown account) in all in one clock hour that raise the signin_failures alarm, once per hour over all nodes: a credential-stuffing flood from rotating addresses passes the per-address throttle but not this. Set it above your busiest normal hour; 0 turns it off',
  },
  {
    key: 'alarmSmsPerHour',
    env: 'ALARM_SMS_PER_HOUR',
    kind: 'int',
    min: 0,
    max: 100000000,
    default: '1000',
    description:
      'text messages sent in all in one clock hour that raise the sms (spend) alarm, once per hour over all nodes; keep it well below SMS_PER_DAY / 24 so it rings before the daily brake. 0 turns it off',
  },
  {
    key: 'alarmSmsPerCountryPerHour',
    env: 'ALARM_SMS_PER_COUNTRY_PER_HOUR',
    kind: 'int',
    min: 0,
    max: 100000000,
    default: '0',
    description:
      'text messages to one country in one clock hour that raise the sms_country alarm, once per hour and country (pumping goes to countries you rarely text); 0 (the default) turns it off',
  },
  {
    key: 'alarmEmail',
    env: 'ALARM_EMAIL',
    kind: 'string',
    description:
      'operator address that gets an email for every alarm raised (through SMTP_URL, or the outbox in development); unset: the log line and twostep_alarms_total only',
  },
  {
    key: 'oidcCookieKeys',
    env: 'OIDC_COOKIE_KEYS',
    kind: 'string',
    secret: 'whole',
    description:
      'comma-separated keys (each at least 32 characters) that sign the OpenID Connect cookies; the first signs, the others still verify (rotation). Development derives one from TWOSTEP_SECRET',
  },
  {
    key: 'sms.provider',
    env: 'SMS_PROVIDER',
    kind: 'enum',
    values: ['outbox', 'twilio', 'webhook', 'none'],
    default: 'outbox',
    description:
      'where SMS codes go: the development outbox, a Twilio-compatible API, a JSON webhook, or nowhere (SMS off)',
  },
  {
    key: 'sms.twilioBaseUrl',
    env: 'TWILIO_BASE_URL',
    kind: 'url',
    default: 'https://api.twilio.com',
    description: 'base URL of the Twilio-compatible Messages API',
  },
  {
    key: 'sms.twilioAccountSid',
    env: 'TWILIO_ACCOUNT_SID',
    kind: 'string',
    description: 'account SID for SMS_PROVIDER=twilio and SIM_SWAP_CHECK=twilio',
  },
  {
    key: 'sms.twilioAuthToken',
    env: 'TWILIO_AUTH_TOKEN',
    kind: 'string',
    secret: 'whole',
    description: 'auth token for SMS_PROVIDER=twilio and SIM_SWAP_CHECK=twilio',
  },
  {
    key: 'sms.twilioFrom',
    env: 'TWILIO_FROM',
    kind: 'string',
    description: 'sender number or ID for SMS_PROVIDER=twilio',
  },
  {
    key: 'sms.webhookUrl',
    env: 'SMS_WEBHOOK_URL',
    kind: 'url',
    description: 'URL that receives {"to","body"} for SMS_PROVIDER=webhook',
  },
  {
    key: 'sms.webhookSecret',
    env: 'SMS_WEBHOOK_SECRET',
    kind: 'string',
    secret: 'whole',
    description: 'HMAC key of the X-Twostep-Signature header for SMS_PROVIDER=webhook (at least 32 characters)',
  },
  {
    key: 'simSwapCheck',
    env: 'SIM_SWAP_CHECK',
    kind: 'enum',
    values: ['none', 'twilio', 'webhook'],
    default: 'none',
    description:
      "where to ask, before a sign-in, step-up or recovery code is texted, whether the number's SIM changed or was ported lately: nobody, Twilio Lookup v2 (sim_swap; TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN), or a signed JSON webhook",
  },
  {
    key: 'simSwapDays',
    env: 'SIM_SWAP_DAYS',
    kind: 'int',
    min: 1,
    max: 90,
    default: '7',
    description:
      'a SIM change or port this recent (and after the number was proven) stops codes by text: the user is told to use a device, an authenticator app, a security key or recovery, and the owner is emailed',
  },
  {
    key: 'simSwapOnFailure',
    env: 'SIM_SWAP_ON_FAILURE',
    kind: 'enum',
    values: ['send', 'refuse'],
    default: 'send',
    description:
      'when the lookup fails or times out: send the code anyway (logged and counted) or refuse the text with SMS_DELIVERY_FAILED',
  },
  {
    key: 'simSwapTimeoutMs',
    env: 'SIM_SWAP_TIMEOUT_MS',
    kind: 'int',
    min: 100,
    max: 10000,
    default: '2000',
    description: 'the longest a SIM-swap lookup may take, its one retry included; then it counts as failed',
  },
  {
    key: 'simSwapCacheSeconds',
    env: 'SIM_SWAP_CACHE_SECONDS',
    kind: 'int',
    min: 0,
    max: 3600,
    default: '300',
    description:
      'how long a lookup answer is reused for the same number (each lookup is paid); failures are never cached; 0 asks every time',
  },
  {
    key: 'twilioLookupBaseUrl',
    env: 'TWILIO_LOOKUP_BASE_URL',
    kind: 'url',
    default: 'https://lookups.twilio.com',
    description: 'base URL of the Twilio-compatible Lookup v2 API for SIM_SWAP_CHECK=twilio',
  },
  {
    key: 'simSwapWebhookUrl',
    env: 'SIM_SWAP_WEBHOOK_URL',
    kind: 'url',
    description: 'URL that receives {"number"} and answers {"swappedAt": ISO 8601 | null} for SIM_SWAP_CHECK=webhook',
  },
  {
    key: 'simSwapWebhookSecret',
    env: 'SIM_SWAP_WEBHOOK_SECRET',
    kind: 'string',
    secret: 'whole',
    description: 'HMAC key of the X-Twostep-Signature header for SIM_SWAP_CHECK=webhook (at least 32 characters)',
  },
  {
    key: 'policy.passwordMinLength',
    env: 'PASSWORD_MIN_LENGTH',
    kind: 'int',
    min: 8,
    max: 64,
    default: '8',
    description: 'shortest password (NIST 800-63B-4: 8 with a second factor, 15 for password-only)',
  },
  {
    key: 'policy.passwordMaxLength',
    env: 'PASSWORD_MAX_LENGTH',
    kind: 'int',
    min: 64,
    max: 1024,
    default: '256',
    description: 'longest password',
  },
  {
    key: 'policy.argon2MemoryKib',
    env: 'ARGON2_MEMORY_KIB',
    kind: 'int',
    min: 19456,
    max: 1048576,
    default: '19456',
    description: 'argon2id memory cost (OWASP minimum 19456)',
  },
  {
    key: 'policy.argon2Iterations',
    env: 'ARGON2_ITERATIONS',
    kind: 'int',
    min: 2,
    max: 20,
    default: '2',
    description: 'argon2id time cost',
  },
  {
    key: 'policy.sessionIdleMinutes',
    env: 'SESSION_IDLE_MINUTES',
    kind: 'int',
    min: 1,
    max: 60,
    default: '60',
    description: 'a web session ends after this long without use (NIST AAL2: at most 60)',
  },
  {
    key: 'policy.sessionAbsoluteHours',
    env: 'SESSION_ABSOLUTE_HOURS',
    kind: 'int',
    min: 1,
    max: 24,
    default: '24',
    description: 'a web session ends this long after sign-in, whatever its use (NIST AAL2: at most 24)',
  },
  {
    key: 'policy.emailTokenHours',
    env: 'EMAIL_TOKEN_HOURS',
    kind: 'int',
    min: 1,
    max: 72,
    default: '24',
    description: 'lifetime of an email-verification link',
  },
  {
    key: 'policy.signinFreeFailures',
    env: 'SIGNIN_FREE_FAILURES',
    kind: 'int',
    min: 1,
    max: 100,
    default: '5',
    description: 'wrong passwords per account before sign-in attempts are delayed',
  },
  {
    key: 'policy.signinFreeFailuresPerIp',
    env: 'SIGNIN_FREE_FAILURES_PER_IP',
    kind: 'int',
    min: 1,
    max: 10000,
    default: '20',
    description: 'wrong passwords per client address before its attempts are delayed',
  },
  {
    key: 'policy.signinMaxDelaySeconds',
    env: 'SIGNIN_MAX_DELAY_SECONDS',
    kind: 'int',
    min: 1,
    max: 3600,
    default: '900',
    description: 'longest delay between attempts; delays double per failure up to it and never become a permanent lock',
  },
  {
    key: 'policy.codeLength',
    env: 'CODE_LENGTH',
    kind: 'int',
    min: 4,
    max: 8,
    default: '6',
    description:
      'digits of a verification code (4 reproduces Apple 2013 but is below NIST 800-63B-4, which asks for 6)',
  },
  {
    key: 'policy.codeLifetimeMinutes',
    env: 'CODE_LIFETIME_MINUTES',
    kind: 'int',
    min: 1,
    max: 10,
    default: '10',
    description: 'how long a verification code works (NIST: at most 10 minutes)',
  },
  {
    key: 'policy.codeAttemptsPerChallenge',
    env: 'CODE_ATTEMPTS_PER_CHALLENGE',
    kind: 'int',
    min: 1,
    max: 10,
    default: '5',
    description: `wrong codes before a challenge dies (${SHORT_CODE_BUDGETS.CODE_ATTEMPTS_PER_CHALLENGE} when CODE_LENGTH=4 and this is not set)`,
  },
  {
    key: 'policy.wrongCodesPerAccount',
    env: 'WRONG_CODES_PER_ACCOUNT',
    kind: 'int',
    min: 1,
    max: 100,
    default: '10',
    description: `consecutive wrong codes, across challenges, before the account locks (NIST cap 100; ${SHORT_CODE_BUDGETS.WRONG_CODES_PER_ACCOUNT} when CODE_LENGTH=4 and this is not set); with two-step verification the lock lasts until the recovery key opens it, without it is timed (CODE_LOCK_MINUTES)`,
  },
  {
    key: 'policy.codeLockMinutes',
    env: 'CODE_LOCK_MINUTES',
    kind: 'int',
    min: 1,
    max: 1440,
    default: '15',
    description:
      'an account without two-step verification that spent its wrong-code budget is locked this long; each further lock within 30 days doubles it, up to CODE_LOCK_MAX_MINUTES',
  },
  {
    key: 'policy.codeLockMaxMinutes',
    env: 'CODE_LOCK_MAX_MINUTES',
    kind: 'int',
    min: 1,
    max: 43200,
    default: '1440',
    description: 'the longest timed lock of an account without two-step verification',
  },
  {
    key: 'policy.recoveryPauseHours',
    env: 'RECOVERY_PAUSE_HOURS',
    kind: 'int',
    min: 1,
    max: 720,
    default: '24',
    description:
      'wrong codes in forgot-password recoveries (after the recovery key) never lock the account; WRONG_CODES_PER_ACCOUNT of them within this many hours pause its recoveries until they are this old',
  },
  {
    key: 'policy.codeSendsPerHour',
    env: 'CODE_SENDS_PER_HOUR',
    kind: 'int',
    min: 1,
    max: 100,
    default: '10',
    description: 'codes sent per account per hour, all channels',
  },
  {
    key: 'policy.codeSendIntervalSeconds',
    env: 'CODE_SEND_INTERVAL_SECONDS',
    kind: 'int',
    min: 0,
    max: 600,
    default: '30',
    description: 'least time between two code sends for one account',
  },
  {
    key: 'policy.smsPerAccountPerDay',
    env: 'SMS_PER_ACCOUNT_PER_DAY',
    kind: 'int',
    min: 1,
    max: 1000,
    default: '20',
    description:
      'SMS per account per day over all its numbers (twice the hourly code budget: one account cannot text its five numbers to their caps)',
  },
  {
    key: 'policy.smsPerNumberPerDay',
    env: 'SMS_PER_NUMBER_PER_DAY',
    kind: 'int',
    min: 1,
    max: 100,
    default: '10',
    description: 'SMS per phone number per day',
  },
  {
    key: 'policy.smsPerIpPerDay',
    env: 'SMS_PER_IP_PER_DAY',
    kind: 'int',
    min: 1,
    max: 10000,
    default: '30',
    description: 'SMS requested from one client address per day',
  },
  {
    key: 'policy.smsPerCountryPerDay',
    env: 'SMS_PER_COUNTRY_PER_DAY',
    kind: 'int',
    min: 1,
    max: 10000000,
    default: '10000',
    description: 'SMS to one country per day (a spend brake against SMS pumping)',
  },
  {
    key: 'policy.smsPerDay',
    env: 'SMS_PER_DAY',
    kind: 'int',
    min: 1,
    max: 100000000,
    default: '100000',
    description: 'SMS in all per day (the last spend brake; set it to what the SMS budget affords)',
  },
  {
    key: 'policy.waitingPeriodDays',
    env: 'WAITING_PERIOD_DAYS',
    kind: 'int',
    min: 0,
    max: 30,
    default: '3',
    description: 'days after a password reset or security change before two-step verification can be turned on',
  },
  {
    key: 'policy.recentVerificationMinutes',
    env: 'RECENT_VERIFICATION_MINUTES',
    kind: 'int',
    min: 1,
    max: 60,
    default: '10',
    description: 'how recent a two-step verification must be for a protected change',
  },
  {
    key: 'policy.trustedBrowserDays',
    env: 'TRUSTED_BROWSER_DAYS',
    kind: 'int',
    min: 1,
    max: 90,
    default: '30',
    description: 'how long "trust this browser" skips the code at sign-in',
  },
  {
    key: 'policy.knownBrowserDays',
    env: 'KNOWN_BROWSER_DAYS',
    kind: 'int',
    min: 1,
    max: 400,
    default: '180',
    description:
      'a browser that signed in within this many days is known: a sign-in from any other one emails the owner (400 is the most a browser keeps a cookie)',
  },
  {
    key: 'policy.notMeLinkDays',
    env: 'NOT_ME_LINK_DAYS',
    kind: 'int',
    min: 1,
    max: 30,
    default: '7',
    description: 'how long the "This wasn\'t me" link in a security email works (once)',
  },
  {
    key: 'policy.numberMatching',
    env: 'NUMBER_MATCHING',
    kind: 'bool',
    default: 'false',
    description:
      'pushed codes for sign-in, step-up and recovery are released only after the device picks the number the browser shows',
  },
  {
    key: 'policy.securityKeyRules',
    env: 'SECURITY_KEY_RULES',
    kind: 'enum',
    values: ['open', 'apple'],
    default: 'open',
    description:
      "security keys and passkeys: open (up to 10, one more second step beside codes) or apple (Apple's rules: at least 2 before they count, then they replace codes; at most 6)",
  },
  {
    key: 'policy.passkeySignIn',
    env: 'PASSKEY_SIGN_IN',
    kind: 'bool',
    default: 'true',
    description: 'a passkey (a discoverable credential with user verification) may sign in without the password',
  },
  {
    key: 'policy.pushesPerHour',
    env: 'PUSHES_PER_HOUR',
    kind: 'int',
    min: 1,
    max: 100,
    default: '5',
    description: 'pushes to the trusted devices of an account per hour since its last accepted code (push bombing)',
  },
  {
    key: 'policy.passwordResetLinkMinutes',
    env: 'PASSWORD_RESET_LINK_MINUTES',
    kind: 'int',
    min: 5,
    max: 1440,
    default: '60',
    description: 'how long an emailed password-reset link works (accounts without two-step verification)',
  },
  {
    key: 'policy.passwordResetIntervalSeconds',
    env: 'PASSWORD_RESET_INTERVAL_SECONDS',
    kind: 'int',
    min: 0,
    max: 3600,
    default: '60',
    description: 'at most one password-reset email per address in this many seconds, whoever asks',
  },
  {
    key: 'policy.recoveryMinutes',
    env: 'RECOVERY_MINUTES',
    kind: 'int',
    min: 5,
    max: 120,
    default: '30',
    description: 'how long a recovery with the recovery key may take from the key to the new password',
  },
  {
    key: 'policy.appPasswordsMax',
    env: 'APP_PASSWORDS_MAX',
    kind: 'int',
    min: 1,
    max: 100,
    default: '25',
    description: 'how many app-specific passwords (for legacy mail and calendar clients) an account may have at once',
  },
  {
    key: 'policy.oidcAccessTokenMinutes',
    env: 'OIDC_ACCESS_TOKEN_MINUTES',
    kind: 'int',
    min: 1,
    max: 60,
    default: '60',
    description: 'lifetime of an OpenID Connect access token and ID token',
  },
  {
    key: 'policy.oidcRefreshTokenDays',
    env: 'OIDC_REFRESH_TOKEN_DAYS',
    kind: 'int',
    min: 1,
    max: 90,
    default: '14',
    description:
      'absolute lifetime of a service sign-in with offline access: refresh tokens rotate at every use but never outlive it',
  },
];

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.problems = problems;
  }
}

export type RawSettings = Record<string, string | undefined>;

/** The command-line flag of a setting: `policy.sessionIdleMinutes` → `--session-idle-minutes`. */
export function flagName(field: Field): string {
  const last = field.key.split('.').at(-1) ?? field.key;
  return last.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

function parseValue(field: Field, raw: string, problems: string[]): unknown {
  const where = `${field.env}=${field.secret ? '***' : JSON.stringify(raw)}`;
  switch (field.kind) {
    case 'int': {
      if (!/^-?\d+$/.test(raw)) return void problems.push(`${where}: must be a whole number`);
      const n = Number(raw);
      if ((field.min !== undefined && n < field.min) || (field.max !== undefined && n > field.max)) {
        return void problems.push(`${where}: must be between ${field.min} and ${field.max}`);
      }
      return n;
    }
    case 'bool':
      if (raw === 'true' || raw === '1') return true;
      if (raw === 'false' || raw === '0') return false;
      return void problems.push(`${where}: must be true or false`);
    case 'enum':
      if (!field.values?.includes(raw))
        return void problems.push(`${where}: must be one of ${field.values?.join(', ')}`);
      return raw;
    case 'url':
      if (!URL.canParse(raw)) return void problems.push(`${where}: must be a URL`);
      return raw;
    default:
      return raw;
  }
}

function setPath(target: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    node[part] ??= {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts.at(-1) as string] = value;
}

/** Reads and checks the configuration. `settings` maps env names to values (flags already merged in). */
export function loadConfig(settings: RawSettings): Config {
  const problems: string[] = [];
  const out: Record<string, unknown> = {};
  for (const field of configFields) {
    const raw = settings[field.env];
    const value = raw === undefined || raw === '' ? field.default : raw;
    setPath(out, field.key, value === undefined ? undefined : parseValue(field, value, problems));
  }
  const config = out as unknown as Config;
  if (config.policy.codeLength === 4) {
    const unset = (env: string): boolean => settings[env] === undefined || settings[env] === '';
    if (unset('CODE_ATTEMPTS_PER_CHALLENGE'))
      config.policy.codeAttemptsPerChallenge = SHORT_CODE_BUDGETS.CODE_ATTEMPTS_PER_CHALLENGE;
    if (unset('WRONG_CODES_PER_ACCOUNT'))
      config.policy.wrongCodesPerAccount = SHORT_CODE_BUDGETS.WRONG_CODES_PER_ACCOUNT;
  }
  config.publicUrl ??= `http://localhost:${config.port}`;
  if (config.publicUrl && URL.canParse(config.publicUrl)) config.publicUrl = new URL(config.publicUrl).origin;
  config.secretSource = config.secret ? 'configured' : 'generated';
  if (config.databaseUrl && !/^postgres(ql)?:$/.test(new URL(config.databaseUrl).protocol)) {
    problems.push('DATABASE_URL: must start with postgres:// or postgresql://');
  }
  if (config.redisUrl && !/^rediss?:$/.test(new URL(config.redisUrl).protocol)) {
    problems.push('REDIS_URL: must start with redis:// or rediss://');
  }
  if (config.smtpUrl && !/^smtps?:$/.test(new URL(config.smtpUrl).protocol)) {
    problems.push('SMTP_URL: must start with smtp:// or smtps://');
  }
  if (config.secret !== undefined && config.secret.length < 32)
    problems.push('TWOSTEP_SECRET: must be at least 32 characters');
  if (config.secretPrevious?.split(',').some((previous) => previous.trim().length < 32))
    problems.push('TWOSTEP_SECRET_PREVIOUS: every secret must be at least 32 characters');
  if (config.alarmEmail !== undefined && !/^[^@\s]+@[^@\s]+$/.test(config.alarmEmail))
    problems.push('ALARM_EMAIL: must be an email address');
  if (config.oidcCookieKeys?.split(',').some((key) => key.trim().length < 32))
    problems.push('OIDC_COOKIE_KEYS: every key must be at least 32 characters');
  if (config.sms?.provider === 'twilio') {
    for (const [value, env] of [
      [config.sms.twilioAccountSid, 'TWILIO_ACCOUNT_SID'],
      [config.sms.twilioAuthToken, 'TWILIO_AUTH_TOKEN'],
      [config.sms.twilioFrom, 'TWILIO_FROM'],
    ] as const) {
      if (!value) problems.push(`${env}: needed when SMS_PROVIDER=twilio`);
    }
  }
  if (config.sms?.provider === 'webhook') {
    if (!config.sms.webhookUrl) problems.push('SMS_WEBHOOK_URL: needed when SMS_PROVIDER=webhook');
    if (!config.sms.webhookSecret || config.sms.webhookSecret.length < 32)
      problems.push('SMS_WEBHOOK_SECRET: needed when SMS_PROVIDER=webhook, at least 32 characters');
  }
  if (config.simSwapCheck === 'twilio') {
    for (const [value, env] of [
      [config.sms?.twilioAccountSid, 'TWILIO_ACCOUNT_SID'],
      [config.sms?.twilioAuthToken, 'TWILIO_AUTH_TOKEN'],
    ] as const) {
      if (!value) problems.push(`${env}: needed when SIM_SWAP_CHECK=twilio`);
    }
  }
  if (config.simSwapCheck === 'webhook') {
    if (!config.simSwapWebhookUrl) problems.push('SIM_SWAP_WEBHOOK_URL: needed when SIM_SWAP_CHECK=webhook');
    if (!config.simSwapWebhookSecret || config.simSwapWebhookSecret.length < 32)
      problems.push('SIM_SWAP_WEBHOOK_SECRET: needed when SIM_SWAP_CHECK=webhook, at least 32 characters');
  }
  if (config.env === 'production') {
    if (config.sms?.provider === 'outbox')
      problems.push(
        'SMS_PROVIDER: production needs a real provider (twilio, webhook) or none; the development outbox is refused',
      );
    if (!config.secret) problems.push('TWOSTEP_SECRET: production needs a configured secret, not a generated one');
    if (!config.oidcCookieKeys) problems.push('OIDC_COOKIE_KEYS: production needs configured cookie keys');
    if (!config.smtpUrl) problems.push('SMTP_URL: production needs an SMTP relay; the development outbox is refused');
    if (config.publicUrl && !config.publicUrl.startsWith('https://'))
      problems.push('PUBLIC_URL: production needs an https:// URL');
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/**
 * Development only: a secret generated once and kept in DATA_DIR so sessions and CSRF tokens
 * survive a restart. Production never gets here (loadConfig refuses a missing secret).
 */
export function ensureSecret(config: Config): Config {
  if (config.secret) return config;
  mkdirSync(config.dataDir, { recursive: true });
  const file = join(config.dataDir, 'secret.key');
  if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('base64url'), { mode: 0o600 });
  return { ...config, secret: readFileSync(file, 'utf8').trim() };
}

function mask(field: Field, value: unknown): string {
  if (value === undefined) return '(unset)';
  if (field.secret === 'whole') return '********';
  if (field.secret === 'url-password' && typeof value === 'string') {
    const url = new URL(value);
    if (url.password) url.password = '***';
    return url.toString();
  }
  return String(value);
}

/** The effective configuration as printable rows, secrets masked. */
export function describeConfig(config: Config): { env: string; value: string; description: string }[] {
  return configFields.map((field) => {
    let value: unknown = config;
    for (const part of field.key.split('.')) value = (value as Record<string, unknown>)[part];
    if (field.key === 'secret' && config.secretSource === 'generated') {
      return { env: field.env, value: '(generated in DATA_DIR, development only)', description: field.description };
    }
    return { env: field.env, value: mask(field, value), description: field.description };
  });
}
