// Realistic accounts for load tests (`twostep seed`, bench/): verified emails, a share with two-step
// verification (a recovery key, a verified phone, an authenticator app, every other one a trusted
// device). Fast because nothing expensive is done per account: each of a handful of passwords is hashed
// once at the configured cost and its PHC string reused, one recovery key hash serves all (the key
// itself is thrown away), and rows go in with one `insert … select from unnest(arrays)` per table per
// batch (one parameter per column whatever the batch size; the same SQL on PostgreSQL and PGlite).
// Everything a load generator needs is derivable from the account's number: the email, the password,
// and the authenticator secret (an HMAC of the number under a key derived from TWOSTEP_SECRET, so only
// whoever holds the server's secret can compute it). Seeded accounts are for throw-away databases.
import { createHmac, hkdfSync, randomInt, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { Secret } from 'otpauth';
import { DAY } from '../core/clock.ts';
import { generateRecoveryKey } from '../core/recovery-key.ts';
import { keyring } from '../core/secrets.ts';
import { randomToken, sha256 } from '../core/tokens.ts';
import { createDeviceKeys } from '../device/keys.ts';
import { AUTHENTICATOR_SEAL_PURPOSE } from '../flows/authenticator-codes.ts';
import type { HashCost } from '../passwords/hasher.ts';
import { createPasswordHasher } from '../passwords/hasher.ts';
import type { Db } from '../store/database.ts';

/** The passwords of seeded accounts, by account number modulo their count (public: load generators sign in with them). */
export const SEED_PASSWORDS = [
  'seeded lantern walks quietly',
  'seeded harbour counts pebbles',
  'seeded orchard hums at noon',
  'seeded compass drifts north',
] as const;

const SEEDED_AGE_DAYS = 90;
const NAMES = [
  'Ann de Vries',
  'Bram Jansen',
  'Chloé Peeters',
  'Daan Bakker',
  'Eva Smit',
  'Finn Visser',
  'Lotte Mertens',
];
const COUNTRIES = ['NL', 'BE', 'NL', 'DE', 'NL', 'FR', 'GB'];
const MODELS = ['Pixel 8', 'iPhone 15', 'Galaxy S24', 'Fairphone 5'];

export interface SeededAccount {
  n: number;
  email: string;
  password: string;
  twoStep: boolean;
  /** Set on two-step accounts: the base32 secret of their authenticator app. */
  totpSecret?: string;
  trustedDevice: boolean;
}

export function seedEmail(n: number): string {
  return `seed-${n}@bench.example`;
}

/** Spread evenly: of accounts 0 … n, floor((n + 1) × share) have two-step verification. */
export function seedHasTwoStep(n: number, twoStepShare: number): boolean {
  return Math.floor((n + 1) * twoStepShare) > Math.floor(n * twoStepShare);
}

/** Every other two-step account (by its rank among them) has a trusted device. */
function seedHasDevice(n: number, twoStepShare: number): boolean {
  return seedHasTwoStep(n, twoStepShare) && Math.floor(n * twoStepShare) % 2 === 0;
}

function totpKey(serverSecret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', serverSecret, 'twostep-seed', 'seed-totp', 32));
}

export function seedTotpSecret(key: Buffer, n: number): string {
  const bytes = new Uint8Array(createHmac('sha256', key).update(String(n)).digest().subarray(0, 20));
  return new Secret({ buffer: bytes.buffer }).base32;
}

/** What a load generator knows about account n of a database seeded with this secret and share. */
export function seededAccount(serverSecret: string, n: number, twoStepShare: number): SeededAccount {
  const twoStep = seedHasTwoStep(n, twoStepShare);
  return {
    n,
    email: seedEmail(n),
    password: SEED_PASSWORDS[n % SEED_PASSWORDS.length] as string,
    twoStep,
    ...(twoStep ? { totpSecret: seedTotpSecret(totpKey(serverSecret), n) } : {}),
    trustedDevice: seedHasDevice(n, twoStepShare),
  };
}

export interface SeedOptions {
  serverSecret: string;
  cost: HashCost;
  /** The first account number (a later run continues where an earlier one stopped). */
  from: number;
  count: number;
  twoStepShare: number;
  batchSize: number;
  now: Date;
  onProgress(done: number): void;
}

/** Rows of one batch, column by column (what `unnest` takes). */
interface Batch {
  accounts: {
    id: string[];
    email: string[];
    hash: string[];
    name: string[];
    birth: string[];
    country: string[];
    locale: string[];
    twoStep: boolean[];
  };
  phones: { id: string[]; account: string[]; e164: string[] };
  apps: { id: string[]; account: string[]; sealed: string[] };
  devices: { id: string[]; account: string[]; model: string[]; credential: string[] };
}

export async function seedAccounts(db: Db, options: SeedOptions): Promise<void> {
  const hasher = await createPasswordHasher(options.cost);
  const hashes = await Promise.all(SEED_PASSWORDS.map((p) => hasher.hash(p)));
  const recoveryKeyHash = await hasher.hash(generateRecoveryKey(randomInt));
  const ring = keyring({ secret: options.serverSecret });
  const secretKey = totpKey(options.serverSecret);
  const devicePublicKey = JSON.stringify(createDeviceKeys().publicKey);
  // Long enough ago that no waiting period after a security change is still running (SPEC §3.3).
  const at = new Date(options.now.getTime() - SEEDED_AGE_DAYS * DAY).toISOString();
  const end = options.from + options.count;
  for (let start = options.from; start < end; start += options.batchSize) {
    const batch: Batch = {
      accounts: { id: [], email: [], hash: [], name: [], birth: [], country: [], locale: [], twoStep: [] },
      phones: { id: [], account: [], e164: [] },
      apps: { id: [], account: [], sealed: [] },
      devices: { id: [], account: [], model: [], credential: [] },
    };
    for (let n = start; n < Math.min(end, start + options.batchSize); n += 1) {
      const id = randomUUID();
      const twoStep = seedHasTwoStep(n, options.twoStepShare);
      const a = batch.accounts;
      a.id.push(id);
      a.email.push(seedEmail(n));
      a.hash.push(hashes[n % hashes.length] as string);
      a.name.push(NAMES[n % NAMES.length] as string);
      a.birth.push(
        `19${50 + (n % 50)}-${String(1 + (n % 12)).padStart(2, '0')}-${String(1 + (n % 28)).padStart(2, '0')}`,
      );
      a.country.push(COUNTRIES[n % COUNTRIES.length] as string);
      a.locale.push(n % 3 === 0 ? 'nl' : 'en');
      a.twoStep.push(twoStep);
      if (!twoStep) continue;
      batch.phones.id.push(randomUUID());
      batch.phones.account.push(id);
      batch.phones.e164.push(`+316${String(10_000_000 + (n % 90_000_000))}`);
      batch.apps.id.push(randomUUID());
      batch.apps.account.push(id);
      batch.apps.sealed.push(ring.seal(AUTHENTICATOR_SEAL_PURPOSE, seedTotpSecret(secretKey, n)));
      if (seedHasDevice(n, options.twoStepShare)) {
        batch.devices.id.push(randomUUID());
        batch.devices.account.push(id);
        batch.devices.model.push(MODELS[n % MODELS.length] as string);
        batch.devices.credential.push(sha256(randomToken(32)));
      }
    }
    await insertBatch(db, batch, at, recoveryKeyHash, devicePublicKey);
    options.onProgress(Math.min(end, start + options.batchSize) - options.from);
  }
}

async function insertBatch(db: Db, b: Batch, at: string, recoveryKeyHash: string, publicKey: string): Promise<void> {
  const a = b.accounts;
  await db.transaction().execute(async (tx) => {
    await sql`insert into accounts (id, email, email_verified_at, password_hash, name, birth_date, country, locale,
        state, created_at, updated_at, two_step_enabled_at, security_changed_at, recovery_key_hash, recovery_key_created_at)
      select u.id, u.email, ${at}::timestamptz, u.hash, u.name, u.birth, u.country, u.locale, 'active',
        ${at}::timestamptz, ${at}::timestamptz,
        case when u.two_step then ${at}::timestamptz end, case when u.two_step then ${at}::timestamptz end,
        case when u.two_step then ${recoveryKeyHash} end, case when u.two_step then ${at}::timestamptz end
      from unnest(${a.id}::text[], ${a.email}::text[], ${a.hash}::text[], ${a.name}::text[], ${a.birth}::text[],
        ${a.country}::text[], ${a.locale}::text[], ${a.twoStep}::boolean[])
        as u(id, email, hash, name, birth, country, locale, two_step)`.execute(tx);
    // What sign-up records for every account; the only event written (the log is immutable).
    await sql`insert into audit_events (account_id, actor, event, at, details)
      select u.id, 'account:' || u.id, 'account.created', ${at}::timestamptz,
        jsonb_build_object('country', u.country, 'seeded', true)
      from unnest(${a.id}::text[], ${a.country}::text[]) as u(id, country)`.execute(tx);
    if (b.phones.id.length === 0) return;
    await sql`insert into phones (id, account_id, e164, country, created_at, verified_at)
      select u.id, u.account, u.e164, 'NL', ${at}::timestamptz, ${at}::timestamptz
      from unnest(${b.phones.id}::text[], ${b.phones.account}::text[], ${b.phones.e164}::text[]) as u(id, account, e164)`.execute(
      tx,
    );
    await sql`insert into authenticators (id, account_id, label, secret_sealed, created_at, confirmed_at)
      select u.id, u.account, 'Authenticator app', u.sealed, ${at}::timestamptz, ${at}::timestamptz
      from unnest(${b.apps.id}::text[], ${b.apps.account}::text[], ${b.apps.sealed}::text[]) as u(id, account, sealed)`.execute(
      tx,
    );
    if (b.devices.id.length === 0) return;
    await sql`insert into devices (id, account_id, name, model, public_key, credential_hash, created_at, trusted_at, last_seen_at)
      select u.id, u.account, 'Phone', u.model, ${publicKey}::jsonb, u.credential, ${at}::timestamptz,
        ${at}::timestamptz, ${at}::timestamptz
      from unnest(${b.devices.id}::text[], ${b.devices.account}::text[], ${b.devices.model}::text[],
        ${b.devices.credential}::text[]) as u(id, account, model, credential)`.execute(tx);
  });
}
