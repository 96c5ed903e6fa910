// A node's memory of the sessions it checked recently, so that a session check (the hottest request
// of all) is a key-value read instead of database queries. Safe across nodes: an entry is used only
// while its account's revision (store/account-revisions.ts) is the one it was read under, and that
// revision is read on every request, so a session revoked on any node fails on its very next
// request on every node. Entries also expire after `maxAgeMs`, and the cache holds at most
// `maxEntries` of them, the least recently used going first.
import type { Account } from '../store/accounts.ts';
import type { TrustedFactors } from '../store/second-factors.ts';
import type { SessionRow } from '../store/sessions.ts';

/** What one request may add to its entry, read under the entry's revision (so it moves with it). */
export interface SessionMemo {
  trusted?: TrustedFactors;
}

export interface CachedSession {
  revision: string;
  session: SessionRow;
  account: Account;
  readAt: number;
  memo: SessionMemo;
}

interface Slot {
  /** A session never changes account, so this is known for good once the session was read. */
  accountId: string;
  cached?: CachedSession;
}

export class SessionCache {
  readonly #slots = new Map<string, Slot>();
  readonly #maxEntries: number;
  readonly maxAgeMs: number;

  constructor(options: { maxEntries: number; maxAgeMs: number }) {
    this.#maxEntries = options.maxEntries;
    this.maxAgeMs = options.maxAgeMs;
  }

  /** The session's account, and what was cached of it (maybe stale: the caller checks the revision and age). */
  lookup(sessionId: string): Slot | undefined {
    const slot = this.#slots.get(sessionId);
    if (slot) {
      // Map order is insertion order: moving the slot to the end keeps the least recently used first.
      this.#slots.delete(sessionId);
      this.#slots.set(sessionId, slot);
    }
    return slot;
  }

  /** The session belongs to this account; nothing of it may be cached yet (no revision was read first). */
  rememberAccount(sessionId: string, accountId: string): void {
    this.#put(sessionId, { accountId });
  }

  store(sessionId: string, cached: CachedSession): void {
    this.#put(sessionId, { accountId: cached.account.id, cached });
  }

  forget(sessionId: string): void {
    this.#slots.delete(sessionId);
  }

  /** When revisions cannot be read, nothing cached can be trusted to be current once they can again. */
  clear(): void {
    this.#slots.clear();
  }

  get size(): number {
    return this.#slots.size;
  }

  #put(sessionId: string, slot: Slot): void {
    this.#slots.delete(sessionId);
    this.#slots.set(sessionId, slot);
    if (this.#slots.size > this.#maxEntries) {
      const oldest = this.#slots.keys().next();
      if (!oldest.done) this.#slots.delete(oldest.value);
    }
  }
}
