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
import { type RevisionWatch, watchAccounts, watchDevices, watchPhones, watchSessions } from './revision-watch.ts';
import { type RolloutStore, rolloutStore } from './rollout.ts';
import { type SealedValueStore, sealedValueStore } from './sealed-values.ts';
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
  /** Every value sealed with TWOSTEP_SECRET, for `twostep secret reseal`. */
  sealedValues: SealedValueStore;
  transaction<T>(work: (store: Store) => Promise<T>): Promise<T>;
  /** A cheap round trip, for readiness checks. */
  ping(): Promise<void>;
}

/**
 * With `watch`, every write to what a session check reads moves the account's revision, so that
 * nodes caching sessions see it (store/revision-watch.ts). Without it (operator commands, seeding,
 * tests of the store itself) nothing is cached anywhere that could go stale.
 */
export function createStore(db: Db, watch?: RevisionWatch): Store {
  const accounts = accountStore(db);
  const sessions = sessionStore(db);
  const devices = deviceStore(db);
  const phones = phoneStore(db);
  return {
    accounts: watch ? watchAccounts(accounts, watch) : accounts,
    sessions: watch ? watchSessions(sessions, watch) : sessions,
    emailTokens: emailTokenStore(db),
    audit: auditStore(db),
    outbox: outboxStore(db),
    devices: watch ? watchDevices(devices, watch) : devices,
    challenges: challengeStore(db),
    devicePushes: devicePushStore(db),
    rollout: rolloutStore(db),
    phones: watch ? watchPhones(phones, watch) : phones,
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
    sealedValues: sealedValueStore(db),
    // Inside a transaction already, the work joins it: flows can nest without knowing.
    async transaction(work) {
      if (db.isTransaction) return work(createStore(db, watch));
      if (!watch) return db.transaction().execute((trx) => work(createStore(trx)));
      const inside: RevisionWatch = { revisions: watch.revisions, pending: new Set() };
      try {
        return await db.transaction().execute((trx) => work(createStore(trx, inside)));
      } finally {
        // Committed or rolled back: either way the marker it set gives way to a new revision.
        await Promise.all([...(inside.pending ?? [])].map((id) => watch.revisions.changed(id)));
      }
    },
    async ping() {
      await db.selectFrom('accounts').select('id').limit(1).execute();
    },
  };
}
