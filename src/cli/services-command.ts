// `twostep services add|list|remove` (SPEC §3.14): the relying services that sign their users in
// through Twostep's OpenID Connect provider, registered by the operator on the server machine.
import type { Command } from 'commander';
import type { Config } from '../config.ts';
import { listServices, registerService, removeService } from '../flows/services.ts';
import type { RelyingService } from '../store/oidc-services.ts';
import { failCli, withStore } from './with-store.ts';

type ConfigFrom = (command: Command) => Config;

const ACTOR = 'operator:cli';

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function view(service: RelyingService) {
  return {
    clientId: service.id,
    name: service.name,
    kind: service.kind,
    redirectUris: service.redirectUris,
    postLogoutRedirectUris: service.postLogoutRedirectUris,
    createdAt: service.createdAt.toISOString(),
  };
}

export function registerServicesCommand(
  program: Command,
  configFrom: ConfigFrom,
  addSettingFlags: (c: Command) => Command,
): void {
  const services = program
    .command('services')
    .description('relying services (OpenID Connect clients) that sign their users in through Twostep');

  addSettingFlags(
    services
      .command('add')
      .description('register a service; prints its client_id (and client_secret, once)')
      .requiredOption('--name <name>', 'what users see, e.g. "Messages"')
      .requiredOption('--redirect-uri <url>', 'where sign-ins return (exact match; repeat for more)', collect, [])
      .option('--post-logout-redirect-uri <url>', 'where sign-outs may return (repeat for more)', collect, [])
      .option('--public', 'a browser or native app that cannot keep a secret (PKCE only, no client secret)')
      .option('--json', 'print JSON'),
  ).action(
    async (
      options: {
        name: string;
        redirectUri: string[];
        postLogoutRedirectUri: string[];
        public?: boolean;
        json?: boolean;
      },
      command: Command,
    ) => {
      const config = configFrom(command);
      try {
        const { service, clientSecret } = await withStore(config, (deps) =>
          registerService(
            deps,
            {
              name: options.name,
              kind: options.public ? 'public' : 'confidential',
              redirectUris: options.redirectUri,
              postLogoutRedirectUris: options.postLogoutRedirectUri,
            },
            ACTOR,
          ),
        );
        const issuer = `${config.publicUrl}/oidc`;
        if (options.json) {
          console.log(JSON.stringify({ ...view(service), ...(clientSecret ? { clientSecret } : {}), issuer }));
          return;
        }
        console.log(`registered ${service.name} (${service.kind})`);
        console.log(`  issuer:        ${issuer}`);
        console.log(`  client_id:     ${service.id}`);
        if (clientSecret)
          console.log(`  client_secret: ${clientSecret}   (shown once: keep it in the service's settings)`);
      } catch (error) {
        failCli(error);
      }
    },
  );

  addSettingFlags(
    services.command('list').description('every registered service').option('--json', 'print JSON'),
  ).action(async (options: { json?: boolean }, command: Command) => {
    const all = await withStore(configFrom(command), (deps) => listServices(deps));
    if (options.json) {
      console.log(JSON.stringify(all.map(view)));
      return;
    }
    if (all.length === 0) {
      console.log('no services yet: twostep services add --name <name> --redirect-uri <url>');
      return;
    }
    for (const service of all) {
      console.log(`${service.id}  ${service.kind.padEnd(12)} ${service.name}`);
      for (const uri of service.redirectUris) console.log(`    redirect:        ${uri}`);
      for (const uri of service.postLogoutRedirectUris) console.log(`    after sign-out:  ${uri}`);
    }
  });

  addSettingFlags(
    services.command('remove <clientId>').description('remove a service; its tokens stop working at once'),
  ).action(async (clientId: string, _options: unknown, command: Command) => {
    try {
      const removed = await withStore(configFrom(command), (deps) => removeService(deps, clientId, ACTOR));
      console.log(`removed ${removed.name} (${removed.id})`);
    } catch (error) {
      failCli(error);
    }
  });
}
