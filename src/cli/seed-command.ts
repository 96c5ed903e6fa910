// `twostep seed --accounts N`: fills the configured database with realistic accounts for load tests
// (seed-accounts.ts says what they are and why it is fast), with a progress bar and an ETA on stderr.
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import type { Config } from '../config.ts';
import { SEED_PASSWORDS, seedEmail } from './seed-accounts.ts';

type ConfigFrom = (command: Command) => Config;

interface SeedFlags {
  accounts: string;
  from: string;
  twoStepShare: string;
  batch: string;
}

const HELP = `
Accounts are seed-<n>@bench.example for n from --from to --from + N - 1, all with a verified email and
one of ${SEED_PASSWORDS.length} passwords (password number n mod ${SEED_PASSWORDS.length}: ${SEED_PASSWORDS.map((p) => `"${p}"`).join(', ')}).
A share of the accounts, spread evenly, has two-step verification: a recovery key (the same hash for all;
the key is not kept), a verified phone, an authenticator app whose secret is derived from TWOSTEP_SECRET
and n (bench/ computes it), and every other one a trusted device.
Audit log: one account.created event per account, marked seeded, and no other event. The audit log is
immutable, so seed only a database you can throw away.`;

function positiveInt(raw: string, name: string, min: number): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    console.error(`error: ${name} must be an integer ≥ ${min}`);
    process.exit(2);
  }
  return value;
}

export function registerSeedCommand(
  program: Command,
  configFrom: ConfigFrom,
  addSettingFlags: (c: Command) => Command,
): void {
  addSettingFlags(
    program
      .command('seed')
      .description('create many realistic accounts quickly, for load tests (a throw-away database only)')
      .requiredOption('--accounts <n>', 'how many accounts to create')
      .option('--from <n>', 'the number of the first account (continue an earlier seed)', '0')
      .option('--two-step-share <fraction>', 'the share of accounts with two-step verification, 0 to 1', '0.5')
      .option('--batch <n>', 'accounts per transaction', '5000')
      .addHelpText('after', HELP),
  ).action(async (flags: SeedFlags, command: Command) => {
    const config = configFrom(command);
    const count = positiveInt(flags.accounts, '--accounts', 1);
    const from = positiveInt(flags.from, '--from', 0);
    const batchSize = positiveInt(flags.batch, '--batch', 1);
    const twoStepShare = Number(flags.twoStepShare);
    if (!(twoStepShare >= 0 && twoStepShare <= 1)) {
      console.error('error: --two-step-share must be between 0 and 1');
      process.exit(2);
    }
    // Loaded on use, as in with-store.ts: the database driver is heavy.
    const { migrateToLatest, openDatabase } = await import('../store/database.ts');
    const { seedAccounts } = await import('./seed-accounts.ts');
    const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: 2 });
    const bar = new cliProgress.SingleBar(
      {
        format: 'seeding [{bar}] {percentage}% | {value}/{total} accounts | {duration_formatted} | ETA {eta_formatted}',
        // Without a terminal (a script, the bench) a line every few seconds instead of a redrawn bar.
        noTTYOutput: true,
        notTTYSchedule: 5000,
      },
      cliProgress.Presets.shades_classic,
    );
    const started = performance.now();
    try {
      await migrateToLatest(db);
      bar.start(count, 0);
      await seedAccounts(db, {
        serverSecret: config.secret,
        cost: { memoryKib: config.policy.argon2MemoryKib, iterations: config.policy.argon2Iterations },
        from,
        count,
        twoStepShare,
        batchSize,
        now: new Date(),
        onProgress: (done) => bar.update(done),
      });
      bar.stop();
    } catch (error) {
      bar.stop();
      throw error;
    } finally {
      await db.destroy();
    }
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `seeded ${count} accounts (${seedEmail(from)} … ${seedEmail(from + count - 1)}) in ${seconds.toFixed(1)} s`,
    );
  });
}
