// Administering the rollout by country (SPEC §3.16). Every change is an audit event without an
// account, naming who made it (the operator's CLI, later an admin in the console).
import { normalizeCountry } from '../core/account-fields.ts';
import type { Clock } from '../core/clock.ts';
import { countryCodes } from '../core/countries.ts';
import { AppError } from '../core/errors.ts';
import { type CountryRollout, presetRollout, presets } from '../core/rollout.ts';
import type { Store } from '../store/index.ts';

export interface RolloutDeps {
  store: Store;
  clock: Clock;
}

/** Every country with its effective state, defaults filled in. */
export async function listRollout(deps: RolloutDeps): Promise<CountryRollout[]> {
  const set = new Map((await deps.store.rollout.listSet()).map((s) => [s.country, s]));
  return countryCodes.map((country) => set.get(country) ?? { country, twoStep: true, sms: true, wave: null });
}

export async function setCountryFlags(
  deps: RolloutDeps,
  rawCountry: string,
  change: { twoStep?: boolean; sms?: boolean },
  actor: string,
): Promise<CountryRollout> {
  const country = normalizeCountry(rawCountry);
  const now = deps.clock.now();
  return deps.store.transaction(async (tx) => {
    const current = await tx.rollout.get(country);
    const next: CountryRollout = {
      country,
      twoStep: change.twoStep ?? current.twoStep,
      sms: change.sms ?? current.sms,
      wave: null,
    };
    await tx.rollout.set([next], now);
    await tx.audit.record({
      accountId: null,
      actor,
      event: 'rollout.changed',
      at: now,
      ip: null,
      userAgent: null,
      details: { country, from: current, to: next },
    });
    return next;
  });
}

export async function applyRolloutPreset(deps: RolloutDeps, preset: string, actor: string): Promise<CountryRollout[]> {
  const states = presetRollout(preset);
  if (!states)
    throw new AppError('VALIDATION_FAILED', { detail: { field: 'preset', known: Object.keys(presets).join(', ') } });
  const now = deps.clock.now();
  await deps.store.transaction(async (tx) => {
    await tx.rollout.set(states, now);
    await tx.audit.record({
      accountId: null,
      actor,
      event: 'rollout.preset_applied',
      at: now,
      ip: null,
      userAgent: null,
      details: { preset },
    });
  });
  return states;
}
