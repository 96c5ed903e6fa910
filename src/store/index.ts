// The store: every table behind a narrow port with domain verbs. `transaction` gives the same
// ports bound to one transaction, so a change and its audit event commit together or not at all.
import { type AccountStore, accountStore } from './accounts.ts';
import { type AppPasswordStore, appPasswordStore } from './app-passwords.ts';
import { type AuditStore, auditStore } from './audit.ts';
import { type AuthenticatorStore, authenticatorStore } from './authenticators.ts';
import { type ChallengeStore, challengeStore } from './challenges.ts';
import { type ConsoleQueries, consoleQueries } from './console-queries.ts';
import type { Db } from './database.ts';
import { type DevicePushStore, devicePushStore } from './device-pushes.ts';
import { type DeviceStore, deviceStore } from './devices.ts';
import { type EmailTokenStore, emailTokenStore } from './email-tokens.ts';
import { type KnownBrowserStore, knownBrowserStore } from './known-browsers.ts';
import { type NotMeTokenStore, notMeTokenStore } from './not-me-tokens.ts';
import { type OidcKeyStore, oidcKeyStore } from './oidc-keys.ts';
import { type OidcPayloadStore, oidcPayloadStore } from './oidc-payloads.ts';
import { type RelyingServiceStore, relyingServiceStore } from './oidc-services.ts';
import { type OutboxStore, outboxStore } from './outbox.ts';
import { type PhoneStore, phoneStore } from './phones.ts';
import { type RecoveryStore, recoveryStore } from './recoveries.ts';
import { type RolloutStore, rolloutStore } from './rollout.ts';
import { type SecondFactorQueries, secondFactorQueries } from './second-factors.ts';
import { type SecurityKeyStore, securityKeyStore } from './security-keys.ts';
import { type SessionStore, sessionStore } from './sessions.ts';
import { type StaffStore, staffStore } from './staff.ts';
import { type StaffSecurityKeyStore, staffSecurityKeyStore } from './staff-security-keys.ts';
import { type StaffSessionStore, staffSessionStore } from './staff-sessions.ts';
import { type TrustedBrowserStore, trustedBrowserStore } from './trusted-browsers.ts';

export interface Store {
  accounts: AccountStore;
  sessions: SessionStore;
  emailTokens: EmailTokenStore;
  audit: AuditStore;
  outbox: OutboxStore;
  devices: DeviceStore;
  challenges: ChallengeStore;
  devicePushes: DevicePushStore;
  rollout: RolloutStore;
  phones: PhoneStore;
  authenticators: AuthenticatorStore;
  securityKeys: SecurityKeyStore;
  trustedBrowsers: TrustedBrowserStore;
  knownBrowsers: KnownBrowserStore;
  notMeTokens: NotMeTokenStore;
  recoveries: RecoveryStore;
  relyingServices: RelyingServiceStore;
  oidcKeys: OidcKeyStore;
  oidcPayloads: OidcPayloadStore;
  staff: StaffStore;
  staffSessions: StaffSessionStore;
  staffSecurityKeys: StaffSecurityKeyStore;
  console: ConsoleQueries;
  appPasswords: AppPasswordStore;
  secondFactors: SecondFactorQueries;
  transaction<T>(work: (store: Store) => Promise<T>): Promise<T>;
  /** A cheap round trip, for readiness checks. */
  ping(): Promise<void>;
}

export function createStore(db: Db): Store {
  return {
    accounts: accountStore(db),
    sessions: sessionStore(db),
    emailTokens: emailTokenStore(db),
    audit: auditStore(db),
    outbox: outboxStore(db),
    devices: deviceStore(db),
    challenges: challengeStore(db),
    devicePushes: devicePushStore(db),
    rollout: rolloutStore(db),
    phones: phoneStore(db),
    authenticators: authenticatorStore(db),
    securityKeys: securityKeyStore(db),
    trustedBrowsers: trustedBrowserStore(db),
    knownBrowsers: knownBrowserStore(db),
    notMeTokens: notMeTokenStore(db),
    recoveries: recoveryStore(db),
    relyingServices: relyingServiceStore(db),
    oidcKeys: oidcKeyStore(db),
    oidcPayloads: oidcPayloadStore(db),
    staff: staffStore(db),
    staffSessions: staffSessionStore(db),
    staffSecurityKeys: staffSecurityKeyStore(db),
    console: consoleQueries(db),
    appPasswords: appPasswordStore(db),
    secondFactors: secondFactorQueries(db),
    // Inside a transaction already, the work joins it: flows can nest without knowing.
    transaction: (work) =>
      db.isTransaction ? work(createStore(db)) : db.transaction().execute((trx) => work(createStore(trx))),
    async ping() {
      await db.selectFrom('accounts').select('id').limit(1).execute();
    },
  };
}
