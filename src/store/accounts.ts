import type { Db } from './database.ts';
import type { AccountsTable } from './schema.ts';

export type Account = AccountsTable;

export type NewAccount = Pick<Account, 'id' | 'email' | 'password_hash' | 'name' | 'birth_date' | 'country' | 'locale'>;

/**
 * The row of a brand-new account: the profile it signed up with, everything else in its first state
 * (active, email unconfirmed, no two-step verification). One place to extend when a column is added.
 */
export function newAccountRow(profile: NewAccount, at: Date): Account {
  return {
    ...profile,
    email_verified_at: null,
    state: 'active',
    created_at: at,
    updated_at: at,
    password_changed_at: null,
    two_step_enabled_at: null,
    security_changed_at: null,
    recovery_key_hash: null,
    recovery_key_created_at: null,
    waiting_notice_requested_at: null,
    waiting_notice_sent_at: null,
    number_matching: false,
  };
}

export interface AccountStore {
  /** Inserts the account; false when the email already has one (the caller answers the same either way). */
  create(account: Account): Promise<boolean>;
  /**
   * Replaces an account that was never confirmed and whose confirmation link has expired, so a
   * stranger who signed up with someone else's email cannot hold that address forever. False if
   * there is no such account.
   */
  replaceUnconfirmed(account: Account, createdBefore: Date): Promise<boolean>;
  findByEmail(email: string): Promise<Account | undefined>;
  findById(id: string): Promise<Account | undefined>;
  /**
   * Inside a transaction: takes the account's row lock (held until the transaction ends) and returns
   * the row as it is once the lock is held, so changes that must see each other run one after the other.
   */
  lockForUpdate(id: string): Promise<Account | undefined>;
  markEmailVerified(id: string, at: Date): Promise<void>;
  changePassword(id: string, passwordHash: string, at: Date): Promise<void>;
  /** A stronger hash of the same password (policy grew); not a password change. */
  upgradePasswordHash(id: string, passwordHash: string): Promise<void>;
  rename(id: string, name: string, at: Date): Promise<void>;
  setBirthDate(id: string, birthDate: string, at: Date): Promise<void>;
  setCountry(id: string, country: string, at: Date): Promise<void>;
  /** Moves the account to a confirmed new address; false when another account has it (the caller says so). */
  changeEmail(id: string, email: string, at: Date): Promise<boolean>;
  setLocale(id: string, locale: string, at: Date): Promise<void>;
  /** Records a password reset or security change: the start of the waiting period before enabling two-step. */
  markSecurityChanged(id: string, at: Date): Promise<void>;
  setRecoveryKey(id: string, recoveryKeyHash: string, at: Date): Promise<void>;
  enableTwoStep(id: string, at: Date): Promise<void>;
  /** The owner met the waiting period: tell them by email when it ends. */
  requestWaitingNotice(id: string, at: Date): Promise<void>;
  /**
   * Marks as sent, and returns, the accounts whose waiting period ended (security change at or before
   * `changedBefore`) and that asked to be told; each exactly once, even with several nodes sweeping.
   */
  claimWaitingNotices(changedBefore: Date, at: Date, limit: number): Promise<Account[]>;
  setNumberMatching(id: string, required: boolean, at: Date): Promise<void>;
  /** Locks an active account; false if it was not active. */
  lock(id: string, at: Date): Promise<boolean>;
  /** Unlocks a locked account; false if it was not locked. */
  unlock(id: string, at: Date): Promise<boolean>;
  disableTwoStep(id: string, at: Date): Promise<void>;
}

export function accountStore(db: Db): AccountStore {
  return {
    async create(account) {
      const row = await db
        .insertInto('accounts')
        .values(account)
        .onConflict((oc) => oc.column('email').doNothing())
        .returning('id')
        .executeTakeFirst();
      return row !== undefined;
    },
    async replaceUnconfirmed(account, createdBefore) {
      const removed = await db
        .deleteFrom('accounts')
        .where('email', '=', account.email)
        .where('email_verified_at', 'is', null)
        .where('created_at', '<', createdBefore)
        .returning('id')
        .executeTakeFirst();
      if (!removed) return false;
      await db.insertInto('accounts').values(account).execute();
      return true;
    },
    findByEmail: (email) => db.selectFrom('accounts').selectAll().where('email', '=', email).executeTakeFirst(),
    findById: (id) => db.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirst(),
    lockForUpdate: (id) => db.selectFrom('accounts').selectAll().where('id', '=', id).forUpdate().executeTakeFirst(),
    async markEmailVerified(id, at) {
      await db.updateTable('accounts').set({ email_verified_at: at, updated_at: at }).where('id', '=', id).execute();
    },
    async changePassword(id, passwordHash, at) {
      await db
        .updateTable('accounts')
        .set({ password_hash: passwordHash, password_changed_at: at, updated_at: at })
        .where('id', '=', id)
        .execute();
    },
    async upgradePasswordHash(id, passwordHash) {
      await db.updateTable('accounts').set({ password_hash: passwordHash }).where('id', '=', id).execute();
    },
    async rename(id, name, at) {
      await db.updateTable('accounts').set({ name, updated_at: at }).where('id', '=', id).execute();
    },
    async setBirthDate(id, birthDate, at) {
      await db.updateTable('accounts').set({ birth_date: birthDate, updated_at: at }).where('id', '=', id).execute();
    },
    async setCountry(id, country, at) {
      await db.updateTable('accounts').set({ country, updated_at: at }).where('id', '=', id).execute();
    },
    async changeEmail(id, email, at) {
      // One statement: the address is taken only if no other account has it at this moment; the unique
      // index still guards the race with a sign-up, and the caller turns that into the same answer.
      const result = await db
        .updateTable('accounts')
        .set({ email, email_verified_at: at, updated_at: at })
        .where('id', '=', id)
        .where((eb) =>
          eb.not(eb.exists(eb.selectFrom('accounts as other').select('other.id').where('other.email', '=', email))),
        )
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
    async markSecurityChanged(id, at) {
      await db.updateTable('accounts').set({ security_changed_at: at, updated_at: at }).where('id', '=', id).execute();
    },
    async setRecoveryKey(id, recoveryKeyHash, at) {
      await db
        .updateTable('accounts')
        .set({ recovery_key_hash: recoveryKeyHash, recovery_key_created_at: at, updated_at: at })
        .where('id', '=', id)
        .execute();
    },
    async lock(id, at) {
      const result = await db
        .updateTable('accounts')
        .set({ state: 'locked', updated_at: at })
        .where('id', '=', id)
        .where('state', '=', 'active')
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
    async setNumberMatching(id, required, at) {
      await db
        .updateTable('accounts')
        .set({ number_matching: required, updated_at: at })
        .where('id', '=', id)
        .execute();
    },
    async unlock(id, at) {
      const result = await db
        .updateTable('accounts')
        .set({ state: 'active', updated_at: at })
        .where('id', '=', id)
        .where('state', '=', 'locked')
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
    async requestWaitingNotice(id, at) {
      await db.updateTable('accounts').set({ waiting_notice_requested_at: at }).where('id', '=', id).execute();
    },
    async claimWaitingNotices(changedBefore, at, limit) {
      const due = db
        .selectFrom('accounts')
        .select('id')
        .where('two_step_enabled_at', 'is', null)
        .where('security_changed_at', '<=', changedBefore)
        .where('waiting_notice_requested_at', 'is not', null)
        .where((eb) =>
          eb.or([
            eb('waiting_notice_sent_at', 'is', null),
            eb('waiting_notice_sent_at', '<', eb.ref('waiting_notice_requested_at')),
          ]),
        )
        .limit(limit)
        .forUpdate()
        .skipLocked();
      return db
        .updateTable('accounts')
        .set({ waiting_notice_sent_at: at })
        .where('id', 'in', due)
        .returningAll()
        .execute();
    },
    async enableTwoStep(id, at) {
      await db.updateTable('accounts').set({ two_step_enabled_at: at, updated_at: at }).where('id', '=', id).execute();
    },
    async disableTwoStep(id, at) {
      await db
        .updateTable('accounts')
        .set({ two_step_enabled_at: null, updated_at: at })
        .where('id', '=', id)
        .execute();
    },
    async setLocale(id, locale, at) {
      await db.updateTable('accounts').set({ locale, updated_at: at }).where('id', '=', id).execute();
    },
  };
}
