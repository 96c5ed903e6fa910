// Staff members of the console (SPEC §3.15). A disabled member keeps the row (audit, no email reuse)
// but is never found by sign-in again.
import type { Db } from './database.ts';
import type { StaffRole, StaffTable } from './schema.ts';

export type StaffMember = StaffTable;

export interface StaffStore {
  /** False when the email already belongs to a staff member. */
  create(member: StaffMember): Promise<boolean>;
  findById(id: string): Promise<StaffMember | undefined>;
  findByEmail(email: string): Promise<StaffMember | undefined>;
  /**
   * The member, row-locked until the transaction ends: changes to a member's second steps take it
   * first, so two at once cannot together remove the last one.
   */
  lockForUpdate(id: string): Promise<StaffMember | undefined>;
  list(): Promise<StaffMember[]>;
  /** Stores a freshly generated, not yet confirmed TOTP secret; false if the member already confirmed one. */
  offerTotpSecret(id: string, secretSealed: string): Promise<boolean>;
  /** The authenticator proved the secret: the member may enter from now on. False if already confirmed. */
  confirmTotp(id: string, at: Date): Promise<boolean>;
  /** Forgets the authenticator app (secret and confirmation); false when none was confirmed. */
  removeTotp(id: string): Promise<boolean>;
  /** False when there is no such enabled member. */
  setRole(id: string, role: StaffRole): Promise<boolean>;
  /** False when there is no such enabled member. */
  disable(id: string, at: Date): Promise<boolean>;
  /** How many enabled admins exist: the last one cannot be demoted or disabled. */
  countActiveAdmins(): Promise<number>;
}

export function staffStore(db: Db): StaffStore {
  return {
    async create(member) {
      const row = await db
        .insertInto('staff')
        .values(member)
        .onConflict((oc) => oc.column('email').doNothing())
        .returning('id')
        .executeTakeFirst();
      return row !== undefined;
    },
    findById: (id) => db.selectFrom('staff').selectAll().where('id', '=', id).executeTakeFirst(),
    findByEmail: (email) => db.selectFrom('staff').selectAll().where('email', '=', email).executeTakeFirst(),
    lockForUpdate: (id) => db.selectFrom('staff').selectAll().where('id', '=', id).forUpdate().executeTakeFirst(),
    list: () => db.selectFrom('staff').selectAll().orderBy('created_at').execute(),
    async offerTotpSecret(id, secretSealed) {
      const result = await db
        .updateTable('staff')
        .set({ totp_secret_sealed: secretSealed })
        .where('id', '=', id)
        .where('totp_confirmed_at', 'is', null)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
    async confirmTotp(id, at) {
      const result = await db
        .updateTable('staff')
        .set({ totp_confirmed_at: at })
        .where('id', '=', id)
        .where('totp_confirmed_at', 'is', null)
        .where('totp_secret_sealed', 'is not', null)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
    async removeTotp(id) {
      const result = await db
        .updateTable('staff')
        .set({ totp_secret_sealed: null, totp_confirmed_at: null })
        .where('id', '=', id)
        .where('totp_confirmed_at', 'is not', null)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
    async setRole(id, role) {
      const result = await db
        .updateTable('staff')
        .set({ role })
        .where('id', '=', id)
        .where('disabled_at', 'is', null)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
    async disable(id, at) {
      const result = await db
        .updateTable('staff')
        .set({ disabled_at: at })
        .where('id', '=', id)
        .where('disabled_at', 'is', null)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
    async countActiveAdmins() {
      const row = await db
        .selectFrom('staff')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('role', '=', 'admin')
        .where('disabled_at', 'is', null)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
  };
}
