// The shared key-value store for many nodes. Each budget operation is one Redis command or one
// Lua script, so it is atomic across every node. Keys carry a prefix so tests and deployments can share a server.
//
// When Redis is away, every operation fails within COMMAND_TIMEOUT_MS as SERVICE_UNAVAILABLE (503):
// the budgets it holds (wrong passwords, wrong codes, code sends) fail closed and say so, instead
// of a 500 or a request that hangs while ioredis reconnects. The client reconnects on its own, so
// the service recovers when Redis is back, without a restart; /readyz reports the outage meanwhile.
import { Redis } from 'ioredis';
import { AppError } from '../../core/errors.ts';
import type { KeyValue } from './port.ts';

/** Longest a command waits, queued while reconnecting or unanswered: a loopback Redis answers in well under 1 ms. */
const COMMAND_TIMEOUT_MS = 2000;

async function available<T>(command: Promise<T>): Promise<T> {
  try {
    return await command;
  } catch (error) {
    throw new AppError('SERVICE_UNAVAILABLE', { cause: error });
  }
}

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
    // Auto-pipelining sends the commands of one event-loop turn in one write: on loopback each write is a
    // wake-up of Redis and most of a command's cost, and many requests are in flight at once.
    this.#redis = new Redis(url, {
      lazyConnect: false,
      maxRetriesPerRequest: 3,
      commandTimeout: COMMAND_TIMEOUT_MS,
      enableAutoPipelining: true,
    });
    // Connection errors come back on each command and in /readyz; unheard, ioredis would print each
    // reconnection attempt to stderr.
    this.#redis.on('error', () => {});
    this.#prefix = options.prefix ?? 'twostep:';
  }

  get connected(): boolean {
    return this.#redis.status === 'ready';
  }

  #key(key: string): string {
    return this.#prefix + key;
  }

  async increment(key: string, ttlMs: number): Promise<number> {
    return Number(
      await available(this.#redis.eval(INCREMENT_WITH_TTL, 1, this.#key(key), Math.max(1, Math.ceil(ttlMs)))),
    );
  }

  async get(key: string): Promise<string | undefined> {
    return (await available(this.#redis.get(this.#key(key)))) ?? undefined;
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    await available(this.#redis.set(this.#key(key), value, 'PX', Math.max(1, Math.ceil(ttlMs))));
  }

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    const answer = await available(this.#redis.set(this.#key(key), value, 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX'));
    return answer === 'OK';
  }

  async take(key: string): Promise<string | undefined> {
    return (await available(this.#redis.getdel(this.#key(key)))) ?? undefined;
  }

  async delete(key: string): Promise<void> {
    await available(this.#redis.del(this.#key(key)));
  }

  async remainingMs(key: string): Promise<number | undefined> {
    const ms = await available(this.#redis.pttl(this.#key(key)));
    return ms >= 0 ? ms : undefined;
  }

  async publish(channel: string, message: string): Promise<void> {
    await available(this.#redis.publish(this.#key(channel), message));
  }

  async subscribe(channel: string, onMessage: (message: string) => void): Promise<() => Promise<void>> {
    // A connection in subscriber mode can do nothing else, so pub/sub gets its own.
    if (!this.#subscriber) {
      this.#subscriber = this.#redis.duplicate();
      this.#subscriber.on('error', () => {});
      this.#subscriber.on('message', (ch: string, message: string) => {
        for (const handler of this.#handlers.get(ch) ?? []) handler(message);
      });
    }
    const key = this.#key(channel);
    const set = this.#handlers.get(key) ?? new Set();
    if (set.size === 0) await available(this.#subscriber.subscribe(key));
    set.add(onMessage);
    this.#handlers.set(key, set);
    return async () => {
      set.delete(onMessage);
      if (set.size === 0) await this.#subscriber?.unsubscribe(key);
    };
  }

  async ping(): Promise<void> {
    await available(this.#redis.ping());
  }

  async close(): Promise<void> {
    this.#subscriber?.disconnect();
    await this.#redis.quit();
  }
}
