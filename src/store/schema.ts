// Table types for Kysely. Times are timestamptz and come back as Date on both PGlite and PostgreSQL.
import type { ColumnType, Generated } from 'kysely';

export type AccountState = 'active' | 'locked' | 'disabled';

export interface AccountsTable {
  id: string;
  email: string;
  email_verified_at: Date | null;
  password_hash: string;
  name: string;
  birth_date: string;
  country: string;
  locale: string;
  state: AccountState;
  created_at: Date;
  updated_at: Date;
  password_changed_at: Date | null;
  two_step_enabled_at: Date | null;
  security_changed_at: Date | null;
  recovery_key_hash: string | null;
  recovery_key_created_at: Date | null;
  waiting_notice_requested_at: Date | null;
  waiting_notice_sent_at: Date | null;
  /** The owner requires number matching for pushes to their devices (SPEC §4). */
  number_matching: boolean;
}

export type SessionAssurance = 'password' | 'two-step';

export interface SessionsTable {
  id: string;
  account_id: string;
  secret_hash: string;
  assurance: SessionAssurance;
  created_at: Date;
  last_seen_at: Date;
  verified_at: Date;
  revoked_at: Date | null;
  ip: string | null;
  user_agent: string | null;
}

export type EmailTokenPurpose = 'verify_email' | 'change_email';

export interface EmailTokensTable {
  token_hash: string;
  account_id: string;
  purpose: EmailTokenPurpose;
  created_at: Date;
  expires_at: Date;
  used_at: Date | null;
  /** The address a 'change_email' token moves the account to; null for other purposes. */
  new_email: string | null;
}

export interface AuditEventsTable {
  id: Generated<string>;
  account_id: string | null;
  actor: string; // 'account:<id>', 'staff:<id>', 'system'
  event: string; // <entity>.<verb>
  at: Date;
  ip: string | null;
  user_agent: string | null;
  details: ColumnType<Record<string, unknown>, string, string>;
}

export interface OutboxTable {
  id: Generated<string>;
  to: string;
  channel: 'email' | 'sms';
  subject: string | null;
  body: string;
  links: ColumnType<string[], string, string>;
  code: string | null;
  at: Date;
}

export interface DevicesTable {
  id: string;
  account_id: string;
  name: string;
  model: string;
  public_key: ColumnType<Record<string, string>, string, string>;
  credential_hash: string;
  created_at: Date;
  trusted_at: Date | null;
  last_seen_at: Date | null;
  removed_at: Date | null;
}

export interface ChallengesTable {
  id: string;
  account_id: string;
  purpose: string;
  /** What the challenge is about, e.g. the device being verified. */
  subject: string | null;
  code_hash: string | null;
  code_sent_at: Date | null;
  created_at: Date;
  expires_at: Date;
  failed_attempts: ColumnType<number, number | undefined, number>;
  max_attempts: number;
  completed_at: Date | null;
  cancelled_at: Date | null;
  context: ColumnType<Record<string, unknown>, string, string>;
}

export interface DevicePushesTable {
  id: Generated<string>;
  device_id: string;
  challenge_id: string;
  payload: ColumnType<Record<string, unknown>, string, string>;
  expires_at: Date;
}

export interface RolloutCountriesTable {
  country: string;
  two_step: boolean;
  sms: boolean;
  wave: string | null;
  changed_at: Date;
}

export interface PhonesTable {
  id: string;
  account_id: string;
  e164: string;
  country: string | null;
  created_at: Date;
  verified_at: Date | null;
  removed_at: Date | null;
}

export interface AuthenticatorsTable {
  id: string;
  account_id: string;
  label: string;
  secret_sealed: string;
  created_at: Date;
  confirmed_at: Date | null;
  /** The last accepted TOTP time step (bigint: read as a string on PostgreSQL). */
  last_step: ColumnType<number | string | null, number | null, number>;
  removed_at: Date | null;
}

export interface SecurityKeysTable {
  id: string;
  account_id: string;
  /** base64url, as WebAuthn names the credential. */
  credential_id: string;
  /** base64url of the COSE public key. */
  public_key: string;
  /** bigint: read as a string on PostgreSQL. */
  sign_count: ColumnType<number | string, number, number>;
  /** Comma-separated WebAuthn transports hints (usb, nfc, ble, internal, hybrid). */
  transports: string;
  name: string;
  /** A discoverable credential made with user verification: it may sign in without a password. */
  passkey: boolean;
  created_at: Date;
  last_used_at: Date | null;
  removed_at: Date | null;
}

/** A staff member's security key (0018): the same columns as a customer's, without passkeys. */
export interface StaffSecurityKeysTable {
  id: string;
  staff_id: string;
  credential_id: string;
  public_key: string;
  sign_count: ColumnType<number | string, number, number>;
  transports: string;
  name: string;
  created_at: Date;
  last_used_at: Date | null;
  removed_at: Date | null;
}

export interface TrustedBrowsersTable {
  id: string;
  account_id: string;
  secret_hash: string;
  created_at: Date;
  expires_at: Date;
  user_agent: string | null;
}

/** How the owner proves who they are: an emailed link (no two-step verification) or the recovery key and a code. */
export type RecoveryMethod = 'email_link' | 'recovery_key';
/** The steps in order; `superseded` when a newer recovery of the account started. */
export type RecoveryStep = 'link_sent' | 'key_verified' | 'code_verified' | 'completed' | 'superseded';

export interface AccountRecoveriesTable {
  id: string;
  account_id: string;
  secret_hash: string;
  method: RecoveryMethod;
  step: RecoveryStep;
  /** The code challenge of a recovery with the recovery key. */
  challenge_id: string | null;
  created_at: Date;
  updated_at: Date;
  expires_at: Date;
}

/** A browser that signed in to the account before (SPEC §3.17): the hash of its marker cookie. */
export interface KnownBrowsersTable {
  account_id: string;
  browser_hash: string;
  created_at: Date;
  last_seen_at: Date;
  user_agent: string | null;
}

/** The single-use "This wasn't me" link of one security email. */
export interface NotMeTokensTable {
  token_hash: string;
  account_id: string;
  /** Which email carried it (e.g. `newSignIn`), to say on the page what is being reported. */
  notice: string;
  /** On the "your email was changed" notice: the old address, which a report puts back. */
  restore_email: string | null;
  created_at: Date;
  expires_at: Date;
  used_at: Date | null;
}

/** A relying service (an OpenID Connect client) registered by the operator (SPEC §3.14). */
export type RelyingServiceKind = 'confidential' | 'public';

export interface RelyingServicesTable {
  id: string;
  name: string;
  kind: RelyingServiceKind;
  secret_sealed: string | null;
  redirect_uris: ColumnType<string[], string, string>;
  post_logout_redirect_uris: ColumnType<string[], string, string>;
  created_at: Date;
  removed_at: Date | null;
}

export interface OidcSigningKeysTable {
  kid: string;
  alg: string;
  private_jwk_sealed: string;
  created_at: Date;
  retired_at: Date | null;
}

/** oidc-provider's records (sessions, interactions, codes, tokens, grants), one row per model and id. */
export interface OidcPayloadsTable {
  model: string;
  id: string;
  payload: ColumnType<Record<string, unknown>, string, string>;
  account_id: string | null;
  grant_id: string | null;
  uid: string | null;
  user_code: string | null;
  expires_at: Date | null;
  consumed_at: Date | null;
}

/** A staff member of the console (SPEC §3.15): separate from customer accounts. */
export type StaffRole = 'support' | 'admin';

export interface StaffTable {
  id: string;
  email: string;
  name: string;
  role: StaffRole;
  password_hash: string;
  totp_secret_sealed: string | null;
  totp_confirmed_at: Date | null;
  created_at: Date;
  created_by: string;
  disabled_at: Date | null;
}

export interface StaffSessionsTable {
  id: string;
  staff_id: string;
  secret_hash: string;
  created_at: Date;
  last_seen_at: Date;
  revoked_at: Date | null;
  ip: string | null;
  user_agent: string | null;
}

/** An app-specific password (SPEC §3.13): argon2id hash, a non-secret 8-bit hint to find it, last use. */
export interface AppPasswordsTable {
  id: string;
  account_id: string;
  label: string;
  hint: string;
  password_hash: string;
  created_at: Date;
  last_used_at: Date | null;
  last_used_ip: string | null;
  revoked_at: Date | null;
}

export interface Database {
  accounts: AccountsTable;
  sessions: SessionsTable;
  email_tokens: EmailTokensTable;
  audit_events: AuditEventsTable;
  outbox: OutboxTable;
  devices: DevicesTable;
  challenges: ChallengesTable;
  device_pushes: DevicePushesTable;
  rollout_countries: RolloutCountriesTable;
  phones: PhonesTable;
  authenticators: AuthenticatorsTable;
  security_keys: SecurityKeysTable;
  account_recoveries: AccountRecoveriesTable;
  trusted_browsers: TrustedBrowsersTable;
  known_browsers: KnownBrowsersTable;
  not_me_tokens: NotMeTokensTable;
  relying_services: RelyingServicesTable;
  oidc_signing_keys: OidcSigningKeysTable;
  oidc_payloads: OidcPayloadsTable;
  app_passwords: AppPasswordsTable;
  staff: StaffTable;
  staff_sessions: StaffSessionsTable;
  staff_security_keys: StaffSecurityKeysTable;
}
