// Operator commands that work on the database directly (rollout, services, oidc, admin): open it, bring the schema
// up to date, do the work, close it.
import type { Config } from '../config.ts';
import { type Clock, systemClock } from '../core/clock.ts';
import { isAppError } from '../core/errors.ts';
import type { Store } from '../store/index.ts';

export interface CliDeps {
  store: Store;
  clock: Clock;
  config: Config;
}

export async function withStore<T>(config: Config, work: (deps: CliDeps) => Promise<T>): Promise<T> {
  // Loaded on use: the database driver is heavy, and other commands (the device app) must start fast.
  const { databaseOptions, migrateToLatest, openDatabase } = await import('../store/database.ts');
  const { createStore } = await import('../store/index.ts');
  const db = await openDatabase(databaseOptions(config));
  try {
    await migrateToLatest(db);
    return await work({ store: createStore(db), clock: systemClock, config });
  } finally {
    await db.destroy();
  }
}

/** A refused operation: its stable code on stderr, exit status 2. */
export function failCli(error: unknown): never {
  if (isAppError(error)) {
    console.error(`error: ${error.code}${error.detail ? ` ${JSON.stringify(error.detail)}` : ''}`);
    process.exit(2);
  }
  throw error;
}
