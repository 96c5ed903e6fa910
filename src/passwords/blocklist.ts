// The common-password blocklist shipped with the project (assets/common-passwords.txt, one per line,
// most common first; regenerate with `npm run build:blocklist`).
import { readFileSync } from 'node:fs';

let cached: ReadonlySet<string> | undefined;

export function loadBlocklist(): ReadonlySet<string> {
  cached ??= new Set(
    readFileSync(new URL('../../assets/common-passwords.txt', import.meta.url), 'utf8')
      .split('\n')
      .map((line) => line.trim().toLowerCase())
      .filter((line) => line.length > 0),
  );
  return cached;
}
