// The revision of what a session check reads of an account (its row, its sessions, its trusted
// phones and devices), kept in the shared key-value store so that every node sees a change at once.
// A node may keep what it read under a revision and reuse it while the revision is unchanged
// (flows/session-cache.ts); every change to those rows moves the revision (store/revision-watch.ts).
//
// The protocol, and why each step is there:
// - A reader reads the revision BEFORE it reads the database, and caches what it read under that
//   revision. A change moves the revision AFTER it commits. So data read before a commit was cached
//   under the old revision, and the move makes it unusable on every node's next request.
// - Before it writes, a change also sets a marker (a revision nobody caches under, that expires by
//   itself). If the move after the commit then fails (Redis gone at that moment), the marker still
//   keeps every node from caching, and once it expires the revision is absent, which readers replace
//   with a fresh random one: nothing cached under the old revision is ever used again.
// - If the marker cannot be set, the change does not happen (the key-value store answers
//   SERVICE_UNAVAILABLE): a revocation that other nodes might not see would be worse than a 503.
import { AppError } from '../core/errors.ts';
import { randomToken } from '../core/tokens.ts';
import type { KeyValue } from './kv/port.ts';

/** How long a change's marker holds, should the change's own move never come: longer than any transaction. */
const MARKER_MS = 30_000;
/** Revisions outlive every session (24 h by default); an expired one is replaced like an absent one. */
const REVISION_MS = 48 * 60 * 60_000;
const MARKER_PREFIX = '~';

export interface AccountRevisions {
  /** The revision to cache under, or undefined while a change is under way (read the database, cache nothing). */
  current(accountId: string): Promise<string | undefined>;
  /** Before a change is written: sets the marker. Throws (SERVICE_UNAVAILABLE) when it cannot; then do not write. */
  changing(accountId: string): Promise<void>;
  /** After the change committed (or failed): a new revision. Never throws: the marker covers a failure. */
  changed(accountId: string): Promise<void>;
}

const key = (accountId: string) => `account-revision:${accountId}`;

export function accountRevisions(kv: KeyValue, onMoveFailed: (error: unknown) => void): AccountRevisions {
  return {
    async current(accountId) {
      // While the connection is down, answer at once: a session check should read the database, not
      // wait out the command timeout on every request.
      if (!kv.connected) throw new AppError('SERVICE_UNAVAILABLE');
      const revision = await kv.get(key(accountId));
      if (revision !== undefined) return revision.startsWith(MARKER_PREFIX) ? undefined : revision;
      const fresh = randomToken(12);
      if (await kv.setIfAbsent(key(accountId), fresh, REVISION_MS)) return fresh;
      // Another reader or a change got there first: take theirs, by the same rules.
      const theirs = await kv.get(key(accountId));
      return theirs === undefined || theirs.startsWith(MARKER_PREFIX) ? undefined : theirs;
    },
    async changing(accountId) {
      await kv.set(key(accountId), MARKER_PREFIX + randomToken(12), MARKER_MS);
    },
    async changed(accountId) {
      try {
        await kv.set(key(accountId), randomToken(12), REVISION_MS);
      } catch (error) {
        onMoveFailed(error);
      }
    },
  };
}
