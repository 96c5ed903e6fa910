// The Better Auth peer for the benchmark (issue 10, point 5), run as a child process of
// better-auth.ts so the load generator never shares this event loop. It serves two Better Auth
// instances over HTTP on one port, both on the same PostgreSQL schema and secret:
//   /api/auth/…               the default configuration (no cookie cache): sign-in, OTP, session check
//   /cookie-cache/api/auth/…  the same with `session.cookieCache` on: only its get-session is used
// It talks to its parent over IPC: `ready`, `otp` (the code the plugin "sent"), seed requests and close.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { betterAuth, generateId } from 'better-auth';
import { getMigrations } from 'better-auth/db/migration';
import { toNodeHandler } from 'better-auth/node';
import { twoFactor } from 'better-auth/plugins';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { createPasswordHasher } from '../../src/passwords/hasher.ts';
import {
  CACHED_BASE_PATH,
  DEFAULT_BASE_PATH,
  type FromChild,
  type ToChild,
  TWO_FACTOR_COOKIE,
} from './better-auth-protocol.ts';

const SEED_BATCH = 5000;

const send = (message: FromChild) => process.send?.(message);

const databaseUrl = process.env.BENCH_PEER_DATABASE_URL;
if (!databaseUrl || !process.send) throw new Error('better-auth-server.ts is started by bench/peers/better-auth.ts');

// Its own schema per run, dropped on close, so it never meets Twostep's tables or an earlier run's rows.
const schemaName = `better_auth_${process.pid}_${Date.now().toString(36)}`;
const pool = new pg.Pool({ connectionString: databaseUrl });
const db = new Kysely<Record<string, never>>({ dialect: new PostgresDialect({ pool }) });
// The same argon2id call as Twostep (m=19456 KiB, t=2, p=1, NFKC), on libuv's thread pool.
const hasher = await createPasswordHasher({ memoryKib: 19456, iterations: 2 });

// The code the plugin would e-mail goes to the parent, keyed by the two-factor cookie of the sign-in it
// belongs to (the parent holds the same cookie), so concurrent sign-ins of one user never mix codes.
function sendOTP({ otp }: { user: { email: string }; otp: string }, ctx?: { headers?: Headers }): void {
  const cookies = ctx?.headers?.get('cookie') ?? '';
  const key = cookieValue(cookies, TWO_FACTOR_COOKIE);
  if (key) send({ type: 'otp', key, otp });
}

function cookieValue(header: string, name: string): string | undefined {
  for (const part of header.split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=');
  }
  return undefined;
}

const secret = randomBytes(32).toString('base64url');

function options(baseURL: string, basePath: string, cookieCache: boolean) {
  return {
    appName: 'bench-peer',
    baseURL,
    basePath,
    secret,
    trustedOrigins: [baseURL],
    database: { db, type: 'postgres' as const, schemaName, transaction: true },
    emailAndPassword: {
      enabled: true,
      password: {
        hash: (password: string) => hasher.hash(password),
        verify: ({ hash, password }: { hash: string; password: string }) => hasher.verify(hash, password),
      },
    },
    // Off for the run: the load comes from one address and would otherwise be throttled.
    rateLimit: { enabled: false },
    session: cookieCache ? { cookieCache: { enabled: true } } : {},
    // OTP only, as the seeded users have it: no authenticator-app lookup at sign-in.
    plugins: [twoFactor({ otpOptions: { sendOTP }, totpOptions: { disable: true } })],
    telemetry: { enabled: false },
    logger: { level: 'error' as const },
  };
}

// Listen first: Better Auth needs its own origin (baseURL) and the port may be chosen by the system.
const server = createServer({ keepAliveTimeout: 60_000 });
await new Promise<void>((resolve) => server.listen(Number(process.env.BENCH_PEER_PORT ?? '0'), '127.0.0.1', resolve));
const address = server.address();
const port = typeof address === 'object' && address ? address.port : 0;
const baseURL = `http://127.0.0.1:${port}`;

await (await getMigrations(options(baseURL, DEFAULT_BASE_PATH, false))).runMigrations();
const defaultHandler = toNodeHandler(betterAuth(options(baseURL, DEFAULT_BASE_PATH, false)));
const cachedHandler = toNodeHandler(betterAuth(options(baseURL, CACHED_BASE_PATH, true)));
server.on('request', (req, res) => {
  const handler = req.url?.startsWith(`${CACHED_BASE_PATH}/`) ? cachedHandler : defaultHandler;
  handler(req, res).catch(() => {
    if (!res.headersSent) res.writeHead(500);
    res.end();
  });
});

let seeded = 0;

// Verified users with OTP two-factor on, as /two-factor/enable with method "otp" leaves them (the user's
// flag only, no twoFactor row), each with a credential account. One hash for the run: every user's
// password check still costs one full argon2id verification.
async function seed(count: number, password: string): Promise<string[]> {
  const hash = await hasher.hash(password);
  const emails: string[] = [];
  for (let done = 0; done < count; done += SEED_BATCH) {
    const ids: string[] = [];
    const accountIds: string[] = [];
    const batchEmails: string[] = [];
    for (let i = 0; i < Math.min(SEED_BATCH, count - done); i++) {
      seeded += 1;
      ids.push(generateId());
      accountIds.push(generateId());
      batchEmails.push(`peer-user-${seeded}@bench.test`);
    }
    await db.transaction().execute(async (tx) => {
      await sql`insert into ${sql.table(`${schemaName}.user`)}
        ("id", "name", "email", "emailVerified", "twoFactorEnabled", "createdAt", "updatedAt")
        select id, 'Bench User', email, true, true, now(), now() from unnest(${ids}::text[], ${batchEmails}::text[]) as t(id, email)`.execute(
        tx,
      );
      await sql`insert into ${sql.table(`${schemaName}.account`)}
        ("id", "accountId", "providerId", "userId", "password", "createdAt", "updatedAt")
        select account_id, id, 'credential', id, ${hash}, now(), now()
        from unnest(${accountIds}::text[], ${ids}::text[]) as t(account_id, id)`.execute(tx);
    });
    emails.push(...batchEmails);
  }
  return emails;
}

async function close(): Promise<void> {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await sql`drop schema if exists ${sql.id(schemaName)} cascade`.execute(db);
  await db.destroy();
  process.disconnect();
}

process.on('message', (message: ToChild) => {
  if (message.type === 'close') {
    void close();
    return;
  }
  seed(message.count, message.password).then(
    (emails) => send({ type: 'seeded', id: message.id, emails }),
    (error: unknown) => send({ type: 'failed', id: message.id, message: String(error) }),
  );
});

send({ type: 'ready', port });
