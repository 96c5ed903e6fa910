// Whether a carrier's answer about a number's SIM means "do not text a code there now" (NIST SP
// 800-63B-4 §3.1.3.3: check for device swap, SIM change and number porting before using the PSTN;
// SECURITY.md item 16). Pure: the lookups live in delivery/sim-swap/, the flow in flows/sim-swap.ts.

/** What a lookup learnt about the number's SIM. Carriers answer in one of these shapes. */
export type SimSwapAnswer =
  /** The carrier gave the date of the last SIM change (or port). */
  | { kind: 'swapped_at'; at: Date }
  /** The carrier knows of no SIM change for this number. */
  | { kind: 'never_swapped' }
  /** The carrier only says whether the SIM changed within its own period (e.g. Twilio's PT24H, PT48H). */
  | { kind: 'period'; periodMs: number; swapped: boolean }
  /** The carrier has nothing for this number (an unsupported country or carrier, an incomplete answer). */
  | { kind: 'no_data' };

/**
 * suspected: the SIM changed within the window after the number was proven, so a code texted there
 * may reach someone else; clear: no such change; unknown: the answer cannot tell.
 */
export type SimSwapVerdict = 'suspected' | 'clear' | 'unknown';

export interface VerdictInput {
  now: Date;
  windowMs: number;
  /**
   * When a code last proved possession of the number (the phone's verification), or null when it
   * was never proven (enrolment). A SIM change before that proof was the owner's own: the code
   * reached the SIM that is in the phone now.
   */
  provenAt: Date | null;
}

export function simSwapVerdict(answer: SimSwapAnswer, input: VerdictInput): SimSwapVerdict {
  switch (answer.kind) {
    case 'swapped_at': {
      const recent = input.now.getTime() - answer.at.getTime() < input.windowMs;
      const afterProof = input.provenAt === null || answer.at.getTime() > input.provenAt.getTime();
      return recent && afterProof ? 'suspected' : 'clear';
    }
    case 'never_swapped':
      return 'clear';
    case 'period':
      // "Not within PT48H" says nothing about the days before: the operator sets the carrier's
      // period to SIM_SWAP_DAYS (docs/operations.md). "Within a period longer than ours" cannot
      // place the change inside our window; "within ours" can, and without a date we cannot tell
      // whether it came before the proof, so it counts.
      if (!answer.swapped) return 'clear';
      return answer.periodMs <= input.windowMs ? 'suspected' : 'unknown';
    default:
      return 'unknown';
  }
}

/**
 * An ISO 8601 duration of days, hours, minutes and seconds (`PT48H`, `P7D`, `PT15282H33M44S`) in
 * milliseconds; undefined for anything else (years and months have no fixed length).
 */
export function isoDurationMs(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const match = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(value);
  if (!match || value === 'P' || value.endsWith('T')) return undefined;
  const [, days, hours, minutes, seconds] = match;
  return (
    ((Number(days ?? 0) * 24 + Number(hours ?? 0)) * 60 + Number(minutes ?? 0)) * 60_000 +
    Math.round(Number(seconds ?? 0) * 1000)
  );
}

/** The answer as the key-value cache keeps it (JSON, the date as ISO text). */
export function encodeSimSwapAnswer(answer: SimSwapAnswer): string {
  return JSON.stringify(answer.kind === 'swapped_at' ? { kind: answer.kind, at: answer.at.toISOString() } : answer);
}

export function decodeSimSwapAnswer(text: string): SimSwapAnswer | undefined {
  try {
    const value = JSON.parse(text) as { kind?: unknown; at?: unknown; periodMs?: unknown; swapped?: unknown };
    if (value.kind === 'swapped_at' && typeof value.at === 'string' && !Number.isNaN(Date.parse(value.at)))
      return { kind: 'swapped_at', at: new Date(value.at) };
    if (value.kind === 'never_swapped' || value.kind === 'no_data') return { kind: value.kind };
    if (value.kind === 'period' && typeof value.periodMs === 'number' && typeof value.swapped === 'boolean')
      return { kind: 'period', periodMs: value.periodMs, swapped: value.swapped };
    return undefined;
  } catch {
    return undefined;
  }
}
