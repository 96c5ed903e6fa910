// The push hub (SPEC §3.6, docs/device-protocol.md): delivers codes and notices to trusted devices
// over their live WebSocket. A push is published on the key-value port first, so whichever node holds
// the device's socket sends it at once; it is then kept in the database until it expires, so a device
// that connects later still gets it. For the few milliseconds between the two, every node also keeps
// the pushes it saw in a short replay buffer, which a device that connects in that window is sent too.
import type { Logger } from 'pino';
import type { DevicePushStore } from '../../store/device-pushes.ts';
import type { KeyValue } from '../../store/kv/port.ts';

export interface DeviceSocket {
  send(message: string): void;
  close(code: number, reason: string): void;
}

interface Published {
  deviceIds: string[];
  payload: Record<string, unknown>;
}

interface Recent {
  payload: Record<string, unknown>;
  seenAt: number;
}

/** Far longer than the database write the buffer bridges, far shorter than a code's life. */
const REPLAY_MS = 15_000;

const PUSH_CHANNEL = 'push:devices';
const REMOVED_CHANNEL = 'push:device-removed';

export class PushHub {
  readonly #kv: KeyValue;
  readonly #pushes: DevicePushStore;
  readonly #log: Logger;
  readonly #onDelivered: () => void;
  readonly #sockets = new Map<string, Set<DeviceSocket>>();
  readonly #recent = new Map<string, Recent[]>();
  #unsubscribe: (() => Promise<void>)[] = [];

  constructor(kv: KeyValue, pushes: DevicePushStore, log: Logger, options: { onDelivered?: () => void } = {}) {
    this.#kv = kv;
    this.#pushes = pushes;
    this.#log = log;
    this.#onDelivered = options.onDelivered ?? (() => {});
  }

  async start(): Promise<void> {
    this.#unsubscribe = [
      await this.#kv.subscribe(PUSH_CHANNEL, (raw) => this.#deliverLocally(JSON.parse(raw) as Published)),
      await this.#kv.subscribe(REMOVED_CHANNEL, (deviceId) => this.#closeLocally(deviceId)),
    ];
  }

  async stop(): Promise<void> {
    for (const stop of this.#unsubscribe) await stop();
    for (const deviceId of [...this.#sockets.keys()]) this.#closeLocally(deviceId, 1001, 'server shutting down');
  }

  /** Sends the push to every connected socket of these devices, on any node, then keeps it until `expiresAt`. */
  async push(
    deviceIds: string[],
    challengeId: string,
    payload: Record<string, unknown>,
    expiresAt: Date,
  ): Promise<void> {
    await this.publish(deviceIds, payload);
    await this.keep(deviceIds, challengeId, payload, expiresAt);
  }

  /** Sends at once, on every node; not kept unless `keep` follows (after the challenge row exists). */
  async publish(deviceIds: string[], payload: Record<string, unknown>): Promise<void> {
    await this.#kv.publish(PUSH_CHANNEL, JSON.stringify({ deviceIds, payload } satisfies Published));
  }

  async keep(
    deviceIds: string[],
    challengeId: string,
    payload: Record<string, unknown>,
    expiresAt: Date,
  ): Promise<void> {
    await this.#pushes.addMany(deviceIds, { challengeId, payload, expiresAt });
  }

  /** What a device that just authenticated must be sent: kept pushes and the ones still on their way to the database, newest per challenge. */
  async pendingFor(deviceId: string, at: Date): Promise<Record<string, unknown>[]> {
    const byChallenge = new Map<unknown, Record<string, unknown>>();
    for (const payload of await this.#pushes.pending(deviceId, at)) byChallenge.set(payload.challengeId, payload);
    const now = Date.now();
    for (const entry of this.#recent.get(deviceId) ?? []) {
      const expires = Date.parse(String(entry.payload.expiresAt));
      if (now - entry.seenAt < REPLAY_MS && !(expires <= at.getTime()))
        byChallenge.set(entry.payload.challengeId, entry.payload);
    }
    return [...byChallenge.values()];
  }

  /** A notice that is not kept for later (e.g. "this challenge was cancelled"). */
  async notify(deviceIds: string[], payload: Record<string, unknown>): Promise<void> {
    await this.#kv.publish(PUSH_CHANNEL, JSON.stringify({ deviceIds, payload } satisfies Published));
  }

  /** Closes the device's sockets on every node: it was removed. */
  async disconnect(deviceId: string): Promise<void> {
    await this.#kv.publish(REMOVED_CHANNEL, deviceId);
  }

  attach(deviceId: string, socket: DeviceSocket): void {
    const set = this.#sockets.get(deviceId) ?? new Set();
    set.add(socket);
    this.#sockets.set(deviceId, set);
  }

  detach(deviceId: string, socket: DeviceSocket): void {
    const set = this.#sockets.get(deviceId);
    set?.delete(socket);
    if (set?.size === 0) this.#sockets.delete(deviceId);
  }

  connectedCount(): number {
    let count = 0;
    for (const set of this.#sockets.values()) count += set.size;
    return count;
  }

  #remember(message: Published): void {
    const now = Date.now();
    const { payload } = message;
    for (const deviceId of message.deviceIds) {
      const kept = (this.#recent.get(deviceId) ?? []).filter(
        (e) => now - e.seenAt < REPLAY_MS && e.payload.challengeId !== payload.challengeId,
      );
      if (payload.type === 'code') kept.push({ payload, seenAt: now });
      if (kept.length > 0) this.#recent.set(deviceId, kept);
      else this.#recent.delete(deviceId);
    }
  }

  #deliverLocally(message: Published): void {
    // A code is remembered for the replay window; any later notice about its challenge (cancelled, answered) forgets it.
    if (typeof message.payload.challengeId === 'string') this.#remember(message);
    const text = JSON.stringify(message.payload);
    for (const deviceId of message.deviceIds) {
      for (const socket of this.#sockets.get(deviceId) ?? []) {
        try {
          socket.send(text);
          this.#onDelivered();
        } catch (error) {
          this.#log.warn({ err: error, deviceId }, 'push could not be written to a device socket');
        }
      }
    }
  }

  #closeLocally(deviceId: string, code = 4403, reason = 'device removed'): void {
    for (const socket of this.#sockets.get(deviceId) ?? []) socket.close(code, reason);
    this.#sockets.delete(deviceId);
  }
}
