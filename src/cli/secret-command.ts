// `twostep secret reseal`: step 2 of rotating TWOSTEP_SECRET (docs/operations.md, Key rotation). Seals
// every stored secret again under the current TWOSTEP_SECRET (flows/reseal.ts), printing counts and,
// for values no configured secret opens, their ids; never a secret.
import type { Command } from 'commander';
import type { Config } from '../config.ts';
import { type ResealCount, resealAll } from '../flows/reseal.ts';
import { withStore } from './with-store.ts';

type ConfigFrom = (command: Command) => Config;

const HELP = `
Run it once every node has the new TWOSTEP_SECRET and the old one in TWOSTEP_SECRET_PREVIOUS. It is
idempotent: values already under the current secret are left alone, so it can run again (or be
interrupted and run again). Values that neither TWOSTEP_SECRET nor TWOSTEP_SECRET_PREVIOUS opens are
listed by id and left alone: they were unreadable before and stay so.
Audit log: one secret.resealed event with the counts.`;

function describe(count: ResealCount): string {
  const parts = [`${count.resealed} resealed`, `${count.current} already current`];
  if (count.changed > 0) parts.push(`${count.changed} changed meanwhile`);
  parts.push(`${count.unreadable.length} unreadable`);
  const ids = count.unreadable.length > 0 ? ` (ids: ${count.unreadable.join(', ')})` : '';
  return `${count.kind}: ${parts.join(', ')}${ids}`;
}

export function registerSecretCommand(
  program: Command,
  configFrom: ConfigFrom,
  addSettingFlags: (c: Command) => Command,
): void {
  const secret = program.command('secret').description('TWOSTEP_SECRET and its rotation');

  addSettingFlags(
    secret
      .command('reseal')
      .description('seal every stored secret again under the current TWOSTEP_SECRET (after a rotation)')
      .option('--batch <n>', 'values read per query', '500')
      .addHelpText('after', HELP),
  ).action(async (flags: { batch: string }, command: Command) => {
    const config = configFrom(command);
    const batchSize = Number(flags.batch);
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      console.error('error: --batch must be an integer ≥ 1');
      process.exit(2);
    }
    const counts = await withStore(config, async (deps) => {
      const done = await resealAll(deps, {
        batchSize,
        onBatch: (count) => console.error(`${count.kind}: ${count.resealed + count.current} so far`),
      });
      await deps.store.audit.record({
        accountId: null,
        actor: 'operator:cli',
        event: 'secret.resealed',
        at: deps.clock.now(),
        ip: null,
        userAgent: null,
        details: Object.fromEntries(
          done.map((count) => [
            count.kind,
            { resealed: count.resealed, current: count.current, unreadable: count.unreadable.length },
          ]),
        ),
      });
      return done;
    });
    for (const count of counts) console.log(describe(count));
    const resealed = counts.reduce((sum, count) => sum + count.resealed, 0);
    const unreadable = counts.reduce((sum, count) => sum + count.unreadable.length, 0);
    console.log(`resealed ${resealed} value(s) under the current TWOSTEP_SECRET; ${unreadable} unreadable`);
  });
}
