import type { Db } from './database.ts';

export interface DevicePushStore {
  /** The push kept for each device until it expires or is answered; one statement for all devices. */
  addMany(
    deviceIds: string[],
    push: { challengeId: string; payload: Record<string, unknown>; expiresAt: Date },
  ): Promise<void>;
  /** Pushes still waiting for the device, oldest first. */
  pending(deviceId: string, at: Date): Promise<Record<string, unknown>[]>;
  /** Once a challenge is answered or cancelled its pushes are not delivered any more. */
  removeForChallenge(challengeId: string): Promise<void>;
}

export function devicePushStore(db: Db): DevicePushStore {
  return {
    async addMany(deviceIds, push) {
      if (deviceIds.length === 0) return;
      const payload = JSON.stringify(push.payload);
      await db
        .insertInto('device_pushes')
        .values(
          deviceIds.map((deviceId) => ({
            device_id: deviceId,
            challenge_id: push.challengeId,
            payload,
            expires_at: push.expiresAt,
          })),
        )
        .execute();
    },
    async pending(deviceId, at) {
      const rows = await db
        .selectFrom('device_pushes')
        .select('payload')
        .where('device_id', '=', deviceId)
        .where('expires_at', '>', at)
        .orderBy('id', 'asc')
        .execute();
      return rows.map((row) => row.payload);
    },
    async removeForChallenge(challengeId) {
      await db.deleteFrom('device_pushes').where('challenge_id', '=', challengeId).execute();
    },
  };
}
