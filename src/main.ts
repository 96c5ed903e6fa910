// The `twostep` command line: serve, migrate, config, rollout, seed, and `device` (the terminal device app). Every
// server setting is an environment variable and a flag of the same name (see `twostep config` and
// docs/configuration.md).
import { Command, Option } from 'commander';
import { registerAdminCommand } from './cli/admin-command.ts';
import { registerOidcCommand } from './cli/oidc-command.ts';
import { registerRolloutCommand } from './cli/rollout-command.ts';
import { registerSecretCommand } from './cli/secret-command.ts';
import { registerSeedCommand } from './cli/seed-command.ts';
import { registerServicesCommand } from './cli/services-command.ts';
import {
  type Config,
  ConfigError,
  configFields,
  describeConfig,
  ensureSecret,
  flagName,
  loadConfig,
  type RawSettings,
} from './config.ts';
import { registerDeviceCommands } from './device/commands.ts';

// The server and the database are loaded only by the commands that use them, so that the device
// commands start in a fraction of a second.
const loadApp = (): Promise<typeof import('./app.ts')> => import('./app.ts');
const loadDatabase = (): Promise<typeof import('./store/database.ts')> => import('./store/database.ts');

const program = new Command('twostep').description('Twostep account-security server').showHelpAfterError();

function addSettingFlags(command: Command): Command {
  for (const field of configFields) {
    command.addOption(
      new Option(`--${flagName(field)} <value>`, `${field.description} [env ${field.env}]`).hideHelp(
        field.secret === 'whole',
      ),
    );
  }
  return command;
}

/** Flags win over the environment; both go through the same checks. */
function configFrom(command: Command): Config {
  const flags = command.opts<Record<string, string | undefined>>();
  const settings: RawSettings = { ...process.env };
  for (const field of configFields) {
    const key = flagName(field).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    if (flags[key] !== undefined) settings[field.env] = flags[key];
  }
  return ensureSecret(loadConfig(settings));
}

function fail(error: unknown): never {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(78); // EX_CONFIG
  }
  throw error;
}

addSettingFlags(
  program.command('serve').description('start the server (embedded database unless DATABASE_URL is set)'),
).action(async (_opts, command: Command) => {
  let config: Config;
  try {
    config = configFrom(command);
  } catch (error) {
    fail(error);
  }
  // libuv reads this once, when its pool first starts: nothing before this line has used the pool
  // (config and the CLI read files synchronously, and Node loads modules without it), and the
  // argon2 hashes, file and DNS work that the app starts all run on it.
  process.env.UV_THREADPOOL_SIZE = String(config.argon2Threads);
  const { createApp } = await loadApp();
  const app = await createApp(config);
  const address = await app.server.listen({ port: config.port, host: config.host });
  const where = config.databaseUrl ? 'PostgreSQL (DATABASE_URL)' : `embedded PGlite in ${config.dataDir}`;
  const mail = config.smtpUrl ? 'SMTP (SMTP_URL)' : `the development outbox at ${config.publicUrl}/dev/outbox`;
  console.log(`\nTwostep is running at ${config.publicUrl}  (listening on ${address})`);
  console.log(`  database: ${where}`);
  console.log(`  ephemeral state: ${config.redisUrl ? 'Redis (REDIS_URL)' : 'in memory'}`);
  console.log(`  email and SMS go to ${mail}`);
  console.log(`  API docs: ${config.publicUrl}/docs\n`);

  let closing = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (closing) return;
    closing = true;
    app.services.log.info({ signal }, 'shutting down: finishing requests in flight');
    await app.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
});

addSettingFlags(program.command('migrate').description('bring the database schema up to date, then exit')).action(
  async (_opts, command: Command) => {
    let config: Config;
    try {
      config = configFrom(command);
    } catch (error) {
      fail(error);
    }
    const { databaseOptions, migrateToLatest, openDatabase } = await loadDatabase();
    // A migration may rebuild an index over every account: no statement timeout for it.
    const db = await openDatabase({ ...databaseOptions(config), statementTimeoutMs: 0 });
    const applied = await migrateToLatest(db);
    await db.destroy();
    console.log(applied.length > 0 ? `applied: ${applied.join(', ')}` : 'the database is up to date');
  },
);

addSettingFlags(program.command('config').description('print the effective configuration, secrets masked')).action(
  (_opts, command: Command) => {
    let config: Config;
    try {
      config = configFrom(command);
    } catch (error) {
      fail(error);
    }
    const rows = describeConfig(config);
    const width = Math.max(...rows.map((r) => r.env.length));
    for (const row of rows) console.log(`${row.env.padEnd(width)}  ${row.value}`);
  },
);

registerRolloutCommand(
  program,
  (command) => {
    try {
      return configFrom(command);
    } catch (error) {
      fail(error);
    }
  },
  addSettingFlags,
);
const configOrExit = (command: Command): Config => {
  try {
    return configFrom(command);
  } catch (error) {
    fail(error);
  }
};
registerServicesCommand(program, configOrExit, addSettingFlags);
registerOidcCommand(program, configOrExit, addSettingFlags);
registerSecretCommand(program, configOrExit, addSettingFlags);
registerAdminCommand(program, configOrExit, addSettingFlags);
registerSeedCommand(program, configOrExit, addSettingFlags);
registerDeviceCommands(program);

await program.parseAsync(process.argv);
