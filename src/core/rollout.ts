// Country-by-country rollout (SPEC §2 Rollout, §5): per country, whether two-step verification is
// available and whether codes may go by SMS, with the named, dated wave that switched it on.
// The default is every country with both; the preset `apple-2013` reproduces Apple's historic waves.
import { countryCodes } from './countries.ts';

export interface CountryRollout {
  country: string;
  twoStep: boolean;
  sms: boolean;
  /** The wave that enabled the country, e.g. "2013-03-21"; null when set by hand or by default. */
  wave: string | null;
}

export interface Wave {
  name: string;
  date: string;
  countries: string[];
}

export const presets: Record<string, Wave[]> = {
  // Apple ID two-step verification: reference/apple-2sv.md (SPEC §5).
  'apple-2013': [
    { name: '2013-03-21', date: '2013-03-21', countries: ['US', 'GB', 'AU', 'IE', 'NZ'] },
    { name: '2013-05-10', date: '2013-05-10', countries: ['AT', 'AR', 'BE', 'BR', 'CA', 'MX', 'NL', 'PK', 'PL', 'RU'] },
    { name: '2014-02-20', date: '2014-02-20', countries: ['FR', 'DE', 'IT', 'JP', 'ES'] },
  ],
};

export const DEFAULT_ROLLOUT = { twoStep: true, sms: true } as const;

/** Every country's state under a preset: the waves' countries on (both flags), every other country off. */
export function presetRollout(preset: string): CountryRollout[] | undefined {
  const waves = presets[preset];
  if (!waves) return undefined;
  const waveOf = new Map<string, string>();
  for (const wave of waves) for (const country of wave.countries) waveOf.set(country, wave.name);
  return countryCodes.map((country) => {
    const wave = waveOf.get(country) ?? null;
    return { country, twoStep: wave !== null, sms: wave !== null, wave };
  });
}
