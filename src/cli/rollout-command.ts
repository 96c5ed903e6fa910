// `twostep rollout list|enable|disable|apply-preset` (SPEC §3.16) for the operator on the server machine.
import type { Command } from 'commander';
import type { Config } from '../config.ts';
import { presets } from '../core/rollout.ts';
import { applyRolloutPreset, listRollout, setCountryFlags } from '../flows/rollout.ts';
import { failCli, withStore } from './with-store.ts';

type ConfigFrom = (command: Command) => Config;

const ACTOR = 'operator:cli';

function yesNo(value: boolean): string {
  return value ? 'yes' : 'no';
}

export function registerRolloutCommand(
  program: Command,
  configFrom: ConfigFrom,
  addSettingFlags: (c: Command) => Command,
): void {
  const rollout = program.command('rollout').description('availability of two-step verification and SMS by country');

  addSettingFlags(
    rollout
      .command('list')
      .description('every country with its state')
      .option('--enabled', 'only countries where two-step verification is available'),
  ).action(async (options: { enabled?: boolean }, command: Command) => {
    const states = await withStore(configFrom(command), (deps) => listRollout(deps));
    console.log('country  two-step  sms  wave');
    for (const s of states.filter((s) => !options.enabled || s.twoStep)) {
      console.log(
        `${s.country.padEnd(8)} ${yesNo(s.twoStep).padEnd(9)} ${yesNo(s.sms).padEnd(4)} ${s.wave ?? ''}`.trimEnd(),
      );
    }
  });

  for (const [name, value] of [
    ['enable', true],
    ['disable', false],
  ] as const) {
    addSettingFlags(
      rollout
        .command(`${name} <countries...>`)
        .description(
          `${name} two-step verification (and with --sms, SMS codes) in these countries (ISO codes, e.g. NL BE)`,
        )
        .option('--sms', `${name} SMS delivery only`),
    ).action(async (countries: string[], options: { sms?: boolean }, command: Command) => {
      try {
        await withStore(configFrom(command), async (deps) => {
          for (const country of countries) {
            const state = await setCountryFlags(
              deps,
              country,
              options.sms ? { sms: value } : { twoStep: value },
              ACTOR,
            );
            console.log(`${state.country}: two-step ${yesNo(state.twoStep)}, sms ${yesNo(state.sms)}`);
          }
        });
      } catch (error) {
        failCli(error);
      }
    });
  }

  addSettingFlags(
    rollout
      .command('apply-preset <preset>')
      .description(`set every country from a preset (${Object.keys(presets).join(', ')})`),
  ).action(async (preset: string, _options: unknown, command: Command) => {
    try {
      const states = await withStore(configFrom(command), (deps) => applyRolloutPreset(deps, preset, ACTOR));
      const on = states.filter((s) => s.twoStep);
      console.log(
        `applied ${preset}: two-step verification in ${on.length} countries (${on.map((s) => s.country).join(' ')}), off elsewhere`,
      );
    } catch (error) {
      failCli(error);
    }
  });
}
