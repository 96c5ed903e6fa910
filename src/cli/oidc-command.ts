// `twostep oidc rotate-keys|keys`: the OpenID Connect provider's signing keys (SPEC §3.14).
import type { Command } from 'commander';
import type { Config } from '../config.ts';
import { loadSigningKeys, retiredKeyRetentionMs, rotateSigningKeys } from '../http/oidc/keys.ts';
import { withStore } from './with-store.ts';

type ConfigFrom = (command: Command) => Config;

export function registerOidcCommand(
  program: Command,
  configFrom: ConfigFrom,
  addSettingFlags: (c: Command) => Command,
): void {
  const oidc = program.command('oidc').description('the OpenID Connect provider');

  addSettingFlags(
    oidc
      .command('rotate-keys')
      .description('create a new signing key; the old one stays published until the tokens it signed expire'),
  ).action(async (_options: unknown, command: Command) => {
    const config = configFrom(command);
    const { kid, retired } = await withStore(config, async (deps) => {
      // Make sure there is a key to retire on a database that never served (first start creates one).
      await loadSigningKeys(deps);
      const rotated = await rotateSigningKeys(deps);
      await deps.store.audit.record({
        accountId: null,
        actor: 'operator:cli',
        event: 'oidc.keys_rotated',
        at: deps.clock.now(),
        ip: null,
        userAgent: null,
        details: { kid: rotated.kid, retired: rotated.retired },
      });
      return rotated;
    });
    const minutes = Math.ceil(retiredKeyRetentionMs(config) / 60_000);
    console.log(`new signing key ${kid}; ${retired} older key(s) retired, published for another ${minutes} minutes`);
    console.log('running servers start signing with it within a minute');
  });

  addSettingFlags(oidc.command('keys').description('the signing keys, newest first')).action(
    async (_options: unknown, command: Command) => {
      const rows = await withStore(configFrom(command), (deps) => deps.store.oidcKeys.list());
      for (const row of rows) {
        const state = row.retiredAt ? `retired ${row.retiredAt.toISOString()}` : 'signing';
        console.log(`${row.kid}  ${row.alg}  created ${row.createdAt.toISOString()}  ${state}`);
      }
      if (rows.length === 0) console.log('no keys yet: the first start of the server creates one');
    },
  );
}
