// The push hub (SPEC §3.6, docs/device-protocol.md): delivers codes and notices to trusted devices
// over their live WebSocket. A push is first stored (so a device that connects later still gets
// it), then published on the key-value port, so whichever node holds the device's socket sends it.
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

const PUSH_CHANNEL = 'push:devices';
const REMOVED_CHANNEL = 'push:device-removed';

export class PushHub {
  readonly #kv: KeyValue;
  readonly #pushes: DevicePushStore;
  readonly #log: Logger;
  readonly #sockets = new Map<string, Set<DeviceSocket>>();
  #unsubscribe: (() => Promise<void>)[] = [];

  constructor(kv: KeyValue, pushes: DevicePushStore, log: Logger) {
    this.#kv = kv;
    this.#pushes = pushes;
    this.#log = log;
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

  /** Stores the push until `expiresAt` and sends it to every connected socket of these devices, on any node. */
  async push(
    deviceIds: string[],
    challengeId: string,
    payload: Record<string, unknown>,
    expiresAt: Date,
  ): Promise<void> {
    for (const deviceId of deviceIds) await this.#pushes.add({ deviceId, challengeId, payload, expiresAt });
    await this.#kv.publish(PUSH_CHANNEL, JSON.stringify({ deviceIds, payload } satisfies Published));
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

  #deliverLocally(message: Published): void {
    const text = JSON.stringify(message.payload);
    for (const deviceId of message.deviceIds) {
      for (const socket of this.#sockets.get(deviceId) ?? []) {
        try {
          socket.send(text);
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
