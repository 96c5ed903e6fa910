// The rule behind the SIM-swap check (SECURITY.md item 16): which carrier answers stop a texted code.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  decodeSimSwapAnswer,
  encodeSimSwapAnswer,
  isoDurationMs,
  type SimSwapAnswer,
  simSwapVerdict,
} from '../../src/core/sim-swap.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const now = new Date('2026-12-04T12:00:00Z');
const week = { now, windowMs: 7 * DAY };
const ago = (ms: number): Date => new Date(now.getTime() - ms);

describe('SIM-swap verdict', () => {
  test('a SIM changed within the window, after the number was proven, is suspected', () => {
    const answer: SimSwapAnswer = { kind: 'swapped_at', at: ago(2 * DAY) };
    assert.equal(simSwapVerdict(answer, { ...week, provenAt: ago(30 * DAY) }), 'suspected');
    assert.equal(simSwapVerdict(answer, { ...week, provenAt: null }), 'suspected', 'never proven: enrolment');
  });

  test('a change before the window, or before the code proved the number, is clear', () => {
    assert.equal(
      simSwapVerdict({ kind: 'swapped_at', at: ago(8 * DAY) }, { ...week, provenAt: ago(90 * DAY) }),
      'clear',
    );
    assert.equal(simSwapVerdict({ kind: 'swapped_at', at: ago(7 * DAY) }, { ...week, provenAt: null }), 'clear');
    assert.equal(
      simSwapVerdict({ kind: 'swapped_at', at: ago(3 * DAY) }, { ...week, provenAt: ago(2 * DAY) }),
      'clear',
      'the code texted after the change reached the SIM in the phone now',
    );
    assert.equal(simSwapVerdict({ kind: 'never_swapped' }, { ...week, provenAt: null }), 'clear');
  });

  test("Twilio's period form: within a period no longer than ours is suspected, a longer one cannot tell", () => {
    const provenAt = ago(60 * DAY);
    assert.equal(
      simSwapVerdict({ kind: 'period', periodMs: 48 * HOUR, swapped: true }, { ...week, provenAt }),
      'suspected',
    );
    assert.equal(
      simSwapVerdict({ kind: 'period', periodMs: 7 * DAY, swapped: true }, { ...week, provenAt }),
      'suspected',
    );
    assert.equal(
      simSwapVerdict({ kind: 'period', periodMs: 30 * DAY, swapped: true }, { ...week, provenAt }),
      'unknown',
    );
    assert.equal(
      simSwapVerdict({ kind: 'period', periodMs: 48 * HOUR, swapped: false }, { ...week, provenAt }),
      'clear',
    );
    assert.equal(simSwapVerdict({ kind: 'no_data' }, { ...week, provenAt }), 'unknown');
  });

  test('ISO 8601 durations of days to seconds; nothing else', () => {
    assert.equal(isoDurationMs('PT24H'), DAY);
    assert.equal(isoDurationMs('P7D'), 7 * DAY);
    assert.equal(isoDurationMs('PT15282H33M44S'), ((15282 * 60 + 33) * 60 + 44) * 1000);
    for (const bad of ['P', 'PT', 'P1Y', 'P1M', '24H', '', 'PTxH', null, 48])
      assert.equal(isoDurationMs(bad), undefined, String(bad));
  });

  test('the cached form gives back the same answer, and nonsense gives nothing', () => {
    const answers: SimSwapAnswer[] = [
      { kind: 'swapped_at', at: ago(DAY) },
      { kind: 'never_swapped' },
      { kind: 'period', periodMs: DAY, swapped: true },
      { kind: 'no_data' },
    ];
    for (const answer of answers) assert.deepEqual(decodeSimSwapAnswer(encodeSimSwapAnswer(answer)), answer);
    for (const bad of ['', '{', '{"kind":"swapped_at","at":"soon"}', '{"kind":"other"}'])
      assert.equal(decodeSimSwapAnswer(bad), undefined, bad);
  });
});
