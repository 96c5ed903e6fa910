// The shared key-value store for many nodes. Each budget operation is one Redis command or one
// Lua script, so it is atomic across every node. Keys carry a prefix so tests and deployments can share a server.
import { Redis } from 'ioredis';
import type { KeyValue } from './port.ts';

// INCR then PEXPIRE only on the first increment: the window starts with the first failure.
const INCREMENT_WITH_TTL = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n`;

export class RedisKeyValue implements KeyValue {
  readonly #redis: Redis;
  readonly #prefix: string;
  #subscriber: Redis | undefined;
  readonly #handlers = new Map<string, Set<(message: string) => void>>();

  constructor(url: string, options: { prefix?: string } = {}) {
    this.#redis = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 3 });
    this.#prefix = options.prefix ?? 'twostep:';
  }

  #key(key: string): string {
    return this.#prefix + key;
  }

  async increment(key: string, ttlMs: number): Promise<number> {
    return Number(await this.#redis.eval(INCREMENT_WITH_TTL, 1, this.#key(key), Math.max(1, Math.ceil(ttlMs))));
  }

  async get(key: string): Promise<string | undefined> {
    return (await this.#redis.get(this.#key(key))) ?? undefined;
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    await this.#redis.set(this.#key(key), value, 'PX', Math.max(1, Math.ceil(ttlMs)));
  }

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    return (await this.#redis.set(this.#key(key), value, 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX')) === 'OK';
  }

  async take(key: string): Promise<string | undefined> {
    return (await this.#redis.getdel(this.#key(key))) ?? undefined;
  }

  async delete(key: string): Promise<void> {
    await this.#redis.del(this.#key(key));
  }

  async remainingMs(key: string): Promise<number | undefined> {
    const ms = await this.#redis.pttl(this.#key(key));
    return ms >= 0 ? ms : undefined;
  }

  async publish(channel: string, message: string): Promise<void> {
    await this.#redis.publish(this.#key(channel), message);
  }

  async subscribe(channel: string, onMessage: (message: string) => void): Promise<() => Promise<void>> {
    // A connection in subscriber mode can do nothing else, so pub/sub gets its own.
    if (!this.#subscriber) {
      this.#subscriber = this.#redis.duplicate();
      this.#subscriber.on('message', (ch: string, message: string) => {
        for (const handler of this.#handlers.get(ch) ?? []) handler(message);
      });
    }
    const key = this.#key(channel);
    const set = this.#handlers.get(key) ?? new Set();
    if (set.size === 0) await this.#subscriber.subscribe(key);
    set.add(onMessage);
    this.#handlers.set(key, set);
    return async () => {
      set.delete(onMessage);
      if (set.size === 0) await this.#subscriber?.unsubscribe(key);
    };
  }

  async ping(): Promise<void> {
    await this.#redis.ping();
  }

  async close(): Promise<void> {
    this.#subscriber?.disconnect();
    await this.#redis.quit();
  }
}
