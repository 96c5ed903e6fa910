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
}

const PHC = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$/;

export async function createPasswordHasher(cost: HashCost): Promise<PasswordHasher> {
  const options = { algorithm: ARGON2ID, memoryCost: cost.memoryKib, timeCost: cost.iterations, parallelism: 1 };
  const dummyHash = await hash(randomBytes(32).toString('base64url'), options);
  return {
    hash: (password) => hash(normalizePassword(password), options),
    async verify(storedHash, password) {
      try {
        const ok = await verify(storedHash ?? dummyHash, normalizePassword(password));
        return ok && storedHash !== undefined;
      } catch {
        return false;
      }
    },
    needsRehash(storedHash) {
      const match = PHC.exec(storedHash);
      if (!match) return true;
      return Number(match[1]) < cost.memoryKib || Number(match[2]) < cost.iterations;
    },
  };
}
