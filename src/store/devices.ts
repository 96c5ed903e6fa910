import type { DevicePublicKey } from '../core/device-signature.ts';
import type { Db } from './database.ts';

export interface Device {
  id: string;
  accountId: string;
  name: string;
  model: string;
  publicKey: DevicePublicKey;
  credentialHash: string;
  createdAt: Date;
  trustedAt: Date | null;
  lastSeenAt: Date | null;
}

export interface DeviceStore {
  register(device: Omit<Device, 'trustedAt' | 'lastSeenAt'>): Promise<void>;
  /** A device that has not been removed. */
  find(id: string): Promise<Device | undefined>;
  listForAccount(accountId: string): Promise<Device[]>;
  markTrusted(accountId: string, id: string, at: Date): Promise<boolean>;
  touch(id: string, at: Date): Promise<void>;
  /** Removes the device for good; false if it was not the account's live device. */
  remove(accountId: string, id: string, at: Date): Promise<boolean>;
}

type Row = {
  id: string;
  account_id: string;
  name: string;
  model: string;
  public_key: Record<string, string>;
  credential_hash: string;
  created_at: Date;
  trusted_at: Date | null;
  last_seen_at: Date | null;
};

function fromRow(row: Row): Device {
  return {
    id: row.id,
    accountId: row.account_id,
    name: row.name,
    model: row.model,
    publicKey: row.public_key as unknown as DevicePublicKey,
    credentialHash: row.credential_hash,
    createdAt: row.created_at,
    trustedAt: row.trusted_at,
    lastSeenAt: row.last_seen_at,
  };
}

export function deviceStore(db: Db): DeviceStore {
  const live = () => db.selectFrom('devices').selectAll().where('removed_at', 'is', null);
  return {
    async register(device) {
      await db
        .insertInto('devices')
        .values({
          id: device.id,
          account_id: device.accountId,
          name: device.name,
          model: device.model,
          public_key: JSON.stringify(device.publicKey),
          credential_hash: device.credentialHash,
          created_at: device.createdAt,
          trusted_at: null,
          last_seen_at: null,
          removed_at: null,
        })
        .execute();
    },
    async find(id) {
      const row = await live().where('id', '=', id).executeTakeFirst();
      return row ? fromRow(row) : undefined;
    },
    async listForAccount(accountId) {
      const rows = await live().where('account_id', '=', accountId).orderBy('created_at', 'asc').execute();
      return rows.map(fromRow);
    },
    async markTrusted(accountId, id, at) {
      const result = await db
        .updateTable('devices')
        .set({ trusted_at: at })
        .where('id', '=', id)
        .where('account_id', '=', accountId)
        .where('removed_at', 'is', null)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
    async touch(id, at) {
      await db.updateTable('devices').set({ last_seen_at: at }).where('id', '=', id).execute();
    },
    async remove(accountId, id, at) {
      const result = await db
        .updateTable('devices')
        .set({ removed_at: at })
        .where('id', '=', id)
        .where('account_id', '=', accountId)
        .where('removed_at', 'is', null)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
  };
}
