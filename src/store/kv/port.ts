// Ephemeral state (attempt counters, rate limits, short-lived tokens, fan-out) behind one small
// port: in memory for a single node, Redis for many. Every operation that guards a budget is atomic
// in the implementation, never read-then-write in the caller (DESIGN.md convention 5).

export interface KeyValue {
  /** Adds 1 and returns the new count; the key's lifetime starts with its first increment. */
  increment(key: string, ttlMs: number): Promise<number>;
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, ttlMs: number): Promise<void>;
  /** Sets only if the key is absent; true when this call set it. */
  setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean>;
  /** Returns the value and deletes it in one step: exactly one caller gets it. */
  take(key: string): Promise<string | undefined>;
  delete(key: string): Promise<void>;
  /** Milliseconds the key still lives, undefined if it does not exist. */
  remainingMs(key: string): Promise<number | undefined>;
  publish(channel: string, message: string): Promise<void>;
  /** Returns a function that stops the subscription. */
  subscribe(channel: string, onMessage: (message: string) => void): Promise<() => Promise<void>>;
  ping(): Promise<void>;
  /** False while the connection is down: for reads that would rather skip the store than wait for it. */
  readonly connected: boolean;
  close(): Promise<void>;
}
