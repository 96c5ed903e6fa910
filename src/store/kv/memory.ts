// The single-node key-value store. JavaScript runs one callback at a time, so each method below is
// atomic as long as it does not await in the middle.
import type { Clock } from '../../core/clock.ts';
import type { KeyValue } from './port.ts';

interface Entry {
  value: string;
  expiresAt: number;
}

export class MemoryKeyValue implements KeyValue {
  readonly #clock: Clock;
  readonly #entries = new Map<string, Entry>();
  readonly #subscribers = new Map<string, Set<(message: string) => void>>();
  #writes = 0;

  readonly connected = true;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  #live(key: string): Entry | undefined {
    const entry = this.#entries.get(key);
    if (entry && entry.expiresAt <= this.#clock.now().getTime()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  #sweepSometimes(): void {
    // Expired keys are dropped lazily on access; an occasional sweep bounds memory for keys never read again.
    this.#writes += 1;
    if (this.#entries.size < 10_000 || this.#writes % 1000 !== 0) return;
    for (const key of this.#entries.keys()) this.#live(key);
  }

  async increment(key: string, ttlMs: number): Promise<number> {
    this.#sweepSometimes();
    const entry = this.#live(key);
    if (entry) {
      entry.value = String(Number(entry.value) + 1);
      return Number(entry.value);
    }
    this.#entries.set(key, { value: '1', expiresAt: this.#clock.now().getTime() + ttlMs });
    return 1;
  }

  async get(key: string): Promise<string | undefined> {
    return this.#live(key)?.value;
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    this.#sweepSometimes();
    this.#entries.set(key, { value, expiresAt: this.#clock.now().getTime() + ttlMs });
  }

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    if (this.#live(key)) return false;
    this.#entries.set(key, { value, expiresAt: this.#clock.now().getTime() + ttlMs });
    return true;
  }

  async take(key: string): Promise<string | undefined> {
    const entry = this.#live(key);
    this.#entries.delete(key);
    return entry?.value;
  }

  async delete(key: string): Promise<void> {
    this.#entries.delete(key);
  }

  async remainingMs(key: string): Promise<number | undefined> {
    const entry = this.#live(key);
    return entry ? entry.expiresAt - this.#clock.now().getTime() : undefined;
  }

  async publish(channel: string, message: string): Promise<void> {
    for (const onMessage of this.#subscribers.get(channel) ?? []) queueMicrotask(() => onMessage(message));
  }

  async subscribe(channel: string, onMessage: (message: string) => void): Promise<() => Promise<void>> {
    const set = this.#subscribers.get(channel) ?? new Set();
    set.add(onMessage);
    this.#subscribers.set(channel, set);
    return async () => {
      set.delete(onMessage);
    };
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    this.#entries.clear();
    this.#subscribers.clear();
  }
}
