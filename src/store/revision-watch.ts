// Every write to what a session check reads (an account's row, its sessions, its trusted phones and
// devices) moves the account's revision (store/account-revisions.ts), here in the store where no flow
// can forget it: each method of those four stores is classified below, and TypeScript refuses a new
// method that is not. A write sets the marker first (and does not happen if it cannot), then, after
// its statement or, inside a transaction, after the transaction ends, moves the revision.
import type { AccountRevisions } from './account-revisions.ts';
import type { AccountStore } from './accounts.ts';
import type { DeviceStore } from './devices.ts';
import type { PhoneStore } from './phones.ts';
import type { SessionStore } from './sessions.ts';

export interface RevisionWatch {
  revisions: AccountRevisions;
  /** Inside a transaction: the accounts it changed, moved once it has ended. */
  pending?: Set<string>;
}

type Method = (...args: never[]) => Promise<unknown>;
/**
 * `read`: changes nothing a session check reads. `unseen`: writes something no cached session can
 * hold (a new row, a last-seen time each node keeps for itself). A function: a write, and the account
 * it changes (undefined: none, e.g. nothing to replace). `after`: a write whose accounts are known
 * only from its result; they are moved after it, with no marker before.
 */
type Rule<F extends Method> =
  | 'read'
  | 'unseen'
  | ((...args: Parameters<F>) => string | undefined | Promise<string | undefined>)
  | { after: (result: Awaited<ReturnType<F>>) => string[] };
type Rules<T> = { [K in keyof T]: T[K] extends Method ? Rule<T[K]> : never };

function watched<T extends object>(store: T, rules: Rules<T>, watch: RevisionWatch): T {
  const wrapped = { ...store };
  for (const name of Object.keys(rules) as (keyof T & string)[]) {
    const rule = rules[name] as Rule<Method>;
    if (rule === 'read' || rule === 'unseen') continue;
    const original = store[name] as unknown as Method;
    const moved = async (accountIds: string[]) => {
      if (watch.pending) for (const id of accountIds) watch.pending.add(id);
      else await Promise.all(accountIds.map((id) => watch.revisions.changed(id)));
    };
    (wrapped as Record<string, unknown>)[name] = async (...args: never[]) => {
      if (typeof rule === 'object') {
        const result = await original(...args);
        await moved(rule.after(result as never));
        return result;
      }
      const accountId = await rule(...args);
      if (accountId === undefined) return original(...args);
      await watch.revisions.changing(accountId);
      try {
        return await original(...args);
      } finally {
        await moved([accountId]);
      }
    };
  }
  return wrapped;
}

const byFirst = (id: string) => id;

export function watchAccounts(store: AccountStore, watch: RevisionWatch): AccountStore {
  return watched<AccountStore>(
    store,
    {
      create: 'unseen',
      // The account replaced may have sessions (signed up, never confirmed): they end with it.
      replaceUnconfirmed: async (account) => (await store.findByEmail(account.email))?.id,
      findByEmail: 'read',
      findById: 'read',
      // A row lock changes nothing.
      lockForUpdate: 'read',
      markEmailVerified: byFirst,
      changePassword: byFirst,
      upgradePasswordHash: byFirst,
      rename: byFirst,
      setBirthDate: byFirst,
      setCountry: byFirst,
      changeEmail: byFirst,
      setLocale: byFirst,
      markSecurityChanged: byFirst,
      setRecoveryKey: byFirst,
      enableTwoStep: byFirst,
      requestWaitingNotice: byFirst,
      claimWaitingNotices: { after: (accounts) => accounts.map((a) => a.id) },
      setNumberMatching: byFirst,
      lock: byFirst,
      unlock: byFirst,
      disableTwoStep: byFirst,
    },
    watch,
  );
}

export function watchSessions(store: SessionStore, watch: RevisionWatch): SessionStore {
  return watched<SessionStore>(
    store,
    {
      create: 'unseen',
      findActive: 'read',
      findActiveWithAccount: 'read',
      // Each node keeps its own last-seen time of a cached session, and writes it at most once a minute.
      touch: 'unseen',
      markTwoStepVerified: byFirst,
      revoke: byFirst,
      revokeAll: byFirst,
      listActive: 'read',
    },
    watch,
  );
}

export function watchDevices(store: DeviceStore, watch: RevisionWatch): DeviceStore {
  return watched<DeviceStore>(
    store,
    {
      register: (device) => device.accountId,
      find: 'read',
      listForAccount: 'read',
      markTrusted: byFirst,
      touch: 'unseen',
      remove: byFirst,
    },
    watch,
  );
}

export function watchPhones(store: PhoneStore, watch: RevisionWatch): PhoneStore {
  return watched<PhoneStore>(
    store,
    {
      add: (phone) => phone.accountId,
      find: 'read',
      listForAccount: 'read',
      markVerified: byFirst,
      remove: byFirst,
    },
    watch,
  );
}
