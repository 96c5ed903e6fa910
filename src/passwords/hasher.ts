// argon2id password hashing (SPEC §5, SECURITY.md item 5) on libuv's thread pool, so hashing never
// blocks the event loop. Unknown accounts are checked against a dummy hash of the same cost, so an
// attacker cannot tell by the time of the answer whether an email has an account (SECURITY.md item 35).
import { randomBytes } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';

// Algorithm.Argon2id of @node-rs/argon2 is a const enum, which type stripping cannot inline.
const ARGON2ID = 2;

import { normalizePassword } from '../core/password-policy.ts';

export interface HashCost {
  memoryKib: number;
  iterations: number;
}

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** Constant work whether or not there is a stored hash. */
  verify(storedHash: string | undefined, password: string): Promise<boolean>;
  /** True when a stored hash is weaker than the current policy and should be replaced at sign-in. */
  needsRehash(storedHash: string): boolean;
  /** Hashes and verifications started and not yet finished: running on the pool or queued for it. */
  inFlight(): number;
}

const PHC = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$/;

export async function createPasswordHasher(cost: HashCost): Promise<PasswordHasher> {
  const options = { algorithm: ARGON2ID, memoryCost: cost.memoryKib, timeCost: cost.iterations, parallelism: 1 };
  const dummyHash = await hash(randomBytes(32).toString('base64url'), options);
  let inFlight = 0;
  // Counted for the hash pool gauge of /metrics: when it stays above ARGON2_THREADS, sign-ins queue for hashing.
  const counted = async <T>(work: () => Promise<T>): Promise<T> => {
    inFlight += 1;
    try {
      return await work();
    } finally {
      inFlight -= 1;
    }
  };
  return {
    hash: (password) => counted(() => hash(normalizePassword(password), options)),
    verify: (storedHash, password) =>
      counted(async () => {
        try {
          const ok = await verify(storedHash ?? dummyHash, normalizePassword(password));
          return ok && storedHash !== undefined;
        } catch {
          return false;
        }
      }),
    needsRehash(storedHash) {
      const match = PHC.exec(storedHash);
      if (!match) return true;
      return Number(match[1]) < cost.memoryKib || Number(match[2]) < cost.iterations;
    },
    inFlight: () => inFlight,
  };
}
