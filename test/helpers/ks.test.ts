// The Kolmogorov–Smirnov helper the timing tests rely on, against known values: SciPy 1.17's
// scipy.special.kolmogorov for the tail, scipy.stats.ks_2samp for the statistic.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { kolmogorovTail, ksStatistic, ksTwoSample } from './ks.ts';

function close(actual: number, expected: number, tolerance: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual}, expected ${expected} ± ${tolerance}`);
}

/** A deterministic pseudo-random normal sample (xorshift and Box–Muller), so the test never flakes. */
function normalSample(n: number, mean: number, seed: number): number[] {
  let state = seed;
  const uniform = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return ((state >>> 0) + 0.5) / 2 ** 32;
  };
  return Array.from(
    { length: n },
    () => mean + Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform()),
  );
}

describe('Kolmogorov–Smirnov', () => {
  test('the Kolmogorov tail matches SciPy on both sides of the series switch', () => {
    const scipy: [number, number][] = [
      [0.3, 0.9999906941986655],
      [0.5, 0.9639452436648751],
      [1.0, 0.26999967167735456],
      [1.2238, 0.10002342783567782],
      [1.3581, 0.0499996304316674],
      [1.6276, 0.010001537333060776],
      [2.0, 0.0006709252557796953],
    ];
    for (const [lambda, q] of scipy) close(kolmogorovTail(lambda), q, 1e-9, `Q(${lambda})`);
    assert.equal(kolmogorovTail(0), 1);
    assert.ok(kolmogorovTail(5) < 1e-20);
  });

  test('the statistic matches ks_2samp, ties included', () => {
    const a = [
      0.61, 0.29, 0.06, 0.59, -1.73, -0.74, 0.51, -0.56, 0.39, 1.64, 0.05, -0.06, 0.64, -0.82, 0.37, 1.77, 1.09, -1.28,
      2.36, 1.31, 1.05, -0.32, -0.4, 1.06, -2.47,
    ];
    const b = [
      2.2, 1.66, 1.38, 0.2, 0.36, 0, 0.96, 1.56, 0.44, 1.5, -0.3, 0.66, 2.31, 3.29, -0.27, -0.37, 0.38, 0.7, 0.52,
      -0.72,
    ];
    close(ksStatistic(a, b), 0.23, 1e-12, 'D');
    // Stephens' λ: 0.5411 (SciPy's ks_2samp, asymptotic through kstwo, says 0.532 at these small sizes).
    close(ksTwoSample(a, b).p, 0.5411245537216747, 1e-6, 'p');
    close(ksStatistic([1, 1, 2], [1, 2, 2]), 1 / 3, 1e-12, 'D with ties');
    assert.equal(ksStatistic([1, 2, 3], [4, 5, 6]), 1);
  });

  test('identical samples give p = 1; clearly shifted ones p ≈ 0; one distribution mostly p > 0.01', () => {
    const x = normalSample(200, 10, 12345);
    assert.deepEqual(ksTwoSample(x, [...x].reverse()), { d: 0, p: 1 });
    const shifted = ksTwoSample(
      x,
      x.map((v) => v + 1),
    );
    assert.ok(shifted.p < 1e-10, `shifted by one standard deviation: p ${shifted.p}`);
    // A half-σ shift at 200 each: SciPy gives p ≈ 5e-6 on its own sample of it.
    const half = ksTwoSample(normalSample(200, 10, 1), normalSample(200, 10.5, 2));
    assert.ok(half.p < 1e-3, `half σ: p ${half.p}`);
    // Twenty pairs from one distribution: at the 1 % level about one in a hundred is refused.
    let refused = 0;
    for (let seed = 1; seed <= 20; seed += 1) {
      if (ksTwoSample(normalSample(200, 10, seed * 7919), normalSample(200, 10, seed * 104729)).p <= 0.01) refused += 1;
    }
    assert.ok(refused <= 2, `${refused} of 20 same-distribution pairs refused`);
  });
});
