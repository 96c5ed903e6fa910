// An attacker hopes codes are predictable: some digits likelier than others, or a weak generator.
// SECURITY.md item 11 (codes from a CSPRNG) and item 41 (every secret from node:crypto): the digits of
// codes made the way challenges make them are uniform at every position (a chi-square test), and no
// server code draws anything from Math.random.
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { generateCode } from '../../src/core/codes.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Chi-square statistic of observed counts against a uniform expectation. */
function chiSquare(counts: number[]): number {
  const total = counts.reduce((a, b) => a + b, 0);
  const expected = total / counts.length;
  return counts.reduce((sum, observed) => sum + (observed - expected) ** 2 / expected, 0);
}

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(join(ROOT, dir), { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile() && /\.(ts|js)$/.test(e.name)).map((e) => join(e.parentPath, e.name));
}

describe('codes are unpredictable', () => {
  test('each digit position of 20,000 six-digit codes is uniform (chi-square, 9 degrees of freedom)', () => {
    const codes = Array.from({ length: 20_000 }, () => generateCode(6, randomInt));
    for (let position = 0; position < 6; position += 1) {
      const counts = new Array<number>(10).fill(0);
      for (const code of codes) counts[Number(code[position])] = (counts[Number(code[position])] ?? 0) + 1;
      // 45.0 is the critical value for p = 10⁻⁶ with 9 degrees of freedom: a uniform generator fails
      // this about once in a million runs; one that gives a digit 6 % of extra draws fails it every time.
      assert.ok(chiSquare(counts) < 45, `position ${position}: ${counts.join(' ')}`);
    }
  });

  test('a generator that favours one digit is caught by the same test', () => {
    const biased = (max: number): number => (randomInt(100) < 6 ? 7 : randomInt(max));
    const codes = Array.from({ length: 20_000 }, () => generateCode(6, biased));
    const counts = new Array<number>(10).fill(0);
    for (const code of codes) counts[Number(code[0])] = (counts[Number(code[0])] ?? 0) + 1;
    assert.ok(chiSquare(counts) > 45, 'the test has the power to see a 6 % bias');
  });

  test("challenges make their codes with node:crypto's randomInt", async () => {
    const source = await readFile(join(ROOT, 'src/flows/challenges.ts'), 'utf8');
    assert.match(source, /import \{ randomInt \} from 'node:crypto';/);
    assert.match(source, /generateCode\(config\.policy\.codeLength, randomInt\)/);
  });

  test('no server code uses Math.random; the device page only for its reconnect jitter', async () => {
    for (const file of await sourceFiles('src'))
      assert.ok(!(await readFile(file, 'utf8')).includes('Math.random'), `${file} uses Math.random`);
    for (const file of await sourceFiles('public')) {
      const uses = (await readFile(file, 'utf8')).split('\n').filter((line) => line.includes('Math.random'));
      for (const line of uses) assert.match(line, /const delay = /, `${file}: Math.random outside the reconnect delay`);
    }
  });
});
