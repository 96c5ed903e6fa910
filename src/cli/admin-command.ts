// `twostep admin create|list` (SPEC §3.15): staff accounts from the server machine. The first admin
// can only be created here; later members are added by an admin in the console. The new member's
// password and authenticator key are printed once and stored only as a hash and sealed, respectively.
import type { Command } from 'commander';
import type { Config } from '../config.ts';
import { createStaff, isStaffRole, listStaff } from '../flows/staff/staff-accounts.ts';
import { createPasswordHasher } from '../passwords/hasher.ts';
import { failCli, withStore } from './with-store.ts';

type ConfigFrom = (command: Command) => Config;

const ACTOR = 'operator:cli';

export function registerAdminCommand(
  program: Command,
  configFrom: ConfigFrom,
  addSettingFlags: (c: Command) => Command,
): void {
  const admin = program.command('admin').description('staff accounts of the support console (/console)');

  addSettingFlags(
    admin
      .command('create')
      .description('create a staff member; prints the password and the authenticator (TOTP) key, once')
      .requiredOption('--email <email>', 'the staff member’s email (their sign-in name)')
      .option('--name <name>', 'shown in the console and the audit log', 'Administrator')
      .option('--role <role>', 'admin or support', 'admin')
      .option('--json', 'print JSON'),
  ).action(async (options: { email: string; name: string; role: string; json?: boolean }, command: Command) => {
    const config = configFrom(command);
    try {
      if (!isStaffRole(options.role)) {
        console.error('error: --role must be admin or support');
        process.exit(2);
      }
      const role = options.role;
      const hasher = await createPasswordHasher({
        memoryKib: config.policy.argon2MemoryKib,
        iterations: config.policy.argon2Iterations,
      });
      const created = await withStore(config, (deps) =>
        createStaff({ ...deps, hasher }, { email: options.email, name: options.name, role }, ACTOR, {
          setUpTotp: true,
        }),
      );
      const totp = created.totp as { secret: string; uri: string };
      if (options.json) {
        console.log(
          JSON.stringify({
            id: created.member.id,
            email: created.member.email,
            role: created.member.role,
            password: created.password,
            totpSecret: totp.secret,
            totpUri: totp.uri,
          }),
        );
        return;
      }
      console.log(`created ${created.member.role} ${created.member.email}`);
      console.log(`  password:          ${created.password}`);
      console.log(`  authenticator key: ${totp.secret}`);
      console.log(`  otpauth URI:       ${totp.uri}`);
      console.log('Shown once. Add the key (or the URI) to an authenticator app, then sign in at');
      console.log(`${config.publicUrl}/console with the password and the app's 6-digit code.`);
    } catch (error) {
      failCli(error);
    }
  });

  addSettingFlags(admin.command('list').description('every staff member with role and state')).action(
    async (_options: unknown, command: Command) => {
      const members = await withStore(configFrom(command), (deps) => listStaff(deps));
      console.log('email  role  authenticator  state');
      for (const m of members) {
        console.log(
          `${m.email}  ${m.role}  ${m.totp_confirmed_at ? 'yes' : 'no'}  ${m.disabled_at ? 'disabled' : 'active'}`,
        );
      }
    },
  );
}
