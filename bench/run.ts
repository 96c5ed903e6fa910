// `npm run bench` (bench/README.md): sign-in throughput of real `twostep serve` processes on PostgreSQL +
// Redis against the argon2id hash ceiling and against Better Auth, in one run, then again with a
// million seeded accounts. Creates its own databases and drops them after; writes its section of
// bench/RESULTS.md (between its markers, leaving the push benchmark's part alone).
//
//   npm run bench [-- --seconds 20 --accounts 1000000 --concurrency 16]
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import pg from 'pg';
import { type SeededAccount, seededAccount, seedHasTwoStep } from '../src/cli/seed-accounts.ts';
import { totpCode } from '../src/core/totp.ts';
import { migrateToLatest, openDatabase } from '../src/store/database.ts';
import { httpClient, type Measured, runAll, runFor } from './load.ts';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '3' },
    accounts: { type: 'string', default: '1000000' },
    'small-accounts': { type: 'string', default: '40000' },
    'peer-accounts': { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '16' },
    'session-concurrency': { type: 'string', default: '32' },
    out: { type: 'string', default: new URL('./RESULTS.md', import.meta.url).pathname },
  },
});
const SECONDS = Number(args.seconds);
const WARMUP = Number(args.warmup);
const ACCOUNTS = Number(args.accounts);
const SMALL = Math.min(Number(args['small-accounts']), ACCOUNTS);
const PEER_ACCOUNTS = Number(args['peer-accounts']);
const CONCURRENCY = Number(args.concurrency);
const SESSION_CONCURRENCY = Number(args['session-concurrency']);
const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/3';
const SECRET = 'bench-secret-that-is-long-enough-0123456789abcdef';
/**
 * The servers' hash threads and the ceiling's: ARGON2_THREADS when set, else one per core, as
 * docs/operations.md advises (on 2 cores, 4 threads hashed ~10% slower than 2: four 19 MiB hashes
 * thrash the caches two cores share).
 */
const ARGON2_THREADS = Number(process.env.ARGON2_THREADS ?? cpus().length);
const SHARE = 0.5;
const COST = { memoryKib: 19456, iterations: 2 };
const MAIN = new URL('../src/main.ts', import.meta.url).pathname;
const TARGETS = {
  flowsVsPeer: 1.6,
  flowsVsCeiling: 0.75,
  sessionsVsPeer: 3,
  sessionsVsCachedPeer: 1,
  largeVsSmall: 0.9,
};

/** The contract of bench/peers/better-auth.ts (written on its own branch; see bench/README.md). */
interface BetterAuthPeer {
  baseUrl: string;
  seed(count: number, password: string): Promise<string[]>;
  signIn(email: string, password: string): Promise<{ cookie: string; otpFor(): Promise<string> }>;
  verifyOtp(cookie: string, otp: string): Promise<string>;
  sessionCheckPath: string;
  sessionCheck(sessionCookie: string, options?: { cookieCache: boolean }): Promise<void>;
  close(): Promise<void>;
}
type StartBetterAuth = (options: { databaseUrl: string; port: number }) => Promise<BetterAuthPeer>;

function log(line: string): void {
  console.log(line);
}

function databaseUrl(name: string): string {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof address === 'object' && address ? address.port : 0;
}

function serverEnv(dbUrl: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'development',
    TWOSTEP_SECRET: SECRET,
    DATABASE_URL: dbUrl,
    REDIS_URL,
    LOG_LEVEL: 'warn',
    ARGON2_MEMORY_KIB: String(COST.memoryKib),
    ARGON2_ITERATIONS: String(COST.iterations),
    // The servers size libuv's pool from ARGON2_THREADS (`twostep serve` sets UV_THREADPOOL_SIZE from it);
    // the hash-ceiling process reads UV_THREADPOOL_SIZE: both get the same number.
    ARGON2_THREADS: String(ARGON2_THREADS),
    UV_THREADPOOL_SIZE: String(ARGON2_THREADS),
    // For looking inside a run, e.g. BENCH_NODE_OPTIONS='--cpu-prof --cpu-prof-dir=/tmp/prof'.
    ...(process.env.BENCH_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS } : {}),
  };
}

function run(command: string[], env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', ...command], { env });
  let output = '';
  child.stdout.on('data', (d) => {
    output += d;
  });
  child.stderr.on('data', (d) => {
    output += d;
    process.stderr.write(d);
  });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, output })));
}

async function seed(dbUrl: string, from: number, count: number): Promise<number> {
  const started = performance.now();
  const args = ['seed', '--accounts', String(count), '--from', String(from), '--two-step-share', String(SHARE)];
  const result = await run([MAIN, ...args], serverEnv(dbUrl));
  if (result.code !== 0) throw new Error(`twostep seed failed:\n${result.output}`);
  return (performance.now() - started) / 1000;
}

interface Node {
  baseUrl: string;
  child: ChildProcess;
}

async function startNode(dbUrl: string): Promise<Node> {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', MAIN, 'serve'], {
    env: { ...serverEnv(dbUrl), PORT: String(port), HOST: '127.0.0.1', PUBLIC_URL: baseUrl },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`twostep serve did not start:\n${output}`)), 60_000);
    child.stdout?.on('data', (d) => {
      output += d;
      if (output.includes('Twostep is running at')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr?.on('data', (d) => {
      output += d;
      process.stderr.write(d);
    });
    child.once('exit', (code) => reject(new Error(`twostep serve exited with ${code}:\n${output}`)));
  });
  return { baseUrl, child };
}

async function stopNode(node: Node): Promise<void> {
  if (node.child.exitCode !== null) return;
  const exited = new Promise((resolve) => node.child.once('exit', resolve));
  node.child.kill('SIGTERM');
  const timer = setTimeout(() => node.child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/**
 * Two-step accounts handed out once each in a run: an authenticator code is accepted once per 30-second
 * step, so an account must not come back within a minute; the run stops rather than measure refusals.
 */
function accountCursor(from: number, to: number): () => SeededAccount {
  let n = from;
  return () => {
    while (n < to && !seedHasTwoStep(n, SHARE)) n += 1;
    if (n >= to) throw new Error(`ran out of seeded two-step accounts in ${from}…${to - 1}: raise --small-accounts`);
    return seededAccount(SECRET, n++, SHARE);
  };
}

type Client = ReturnType<typeof httpClient>;

async function passwordStep(client: Client, account: SeededAccount): Promise<string> {
  const answer = await client.request('POST', '/api/v1/signin', {
    json: { email: account.email, password: account.password },
  });
  const body = JSON.parse(answer.body);
  if (answer.status !== 200 || body.status !== 'two_step_required')
    throw new Error(`password step: ${answer.status} ${answer.body}`);
  return body.challenge.id as string;
}

/** The second step with the code of the account's authenticator app (the bench knows its secret). */
async function codeStep(client: Client, account: SeededAccount, challengeId: string): Promise<string> {
  const code = totpCode(account.totpSecret as string, new Date());
  const answer = await client.request('POST', `/api/v1/challenges/${challengeId}/verify`, { json: { code } });
  if (answer.status !== 200) throw new Error(`code step: ${answer.status} ${answer.body}`);
  return JSON.parse(answer.body).token as string;
}

interface Phase {
  flows: Measured;
  codes?: Measured;
  sessions: Measured;
}

async function twostepPhase(client: Client, next: () => SeededAccount, withCodes: boolean): Promise<Phase> {
  const tokens: string[] = [];
  log(`   full sign-in flows, ${CONCURRENCY} in flight, ${WARMUP}+${SECONDS} s`);
  const flows = await runFor({ concurrency: CONCURRENCY, seconds: SECONDS, warmup: WARMUP }, async () => {
    const account = next();
    const token = await codeStep(client, account, await passwordStep(client, account));
    if (tokens.length < 5000) tokens.push(token);
  });
  log(`     ${summary(flows)}`);
  let codes: Measured | undefined;
  if (withCodes) {
    // As many pending second steps as the flows finished in their window, then only their codes, timed.
    const pending: { account: SeededAccount; challengeId: string }[] = [];
    const wanted = Math.max(CONCURRENCY * 4, flows.count);
    log(`   code verifications: ${wanted} password steps first (not timed), then their codes`);
    await runAll(
      Array.from({ length: wanted }, () => next()),
      CONCURRENCY,
      async (account) => {
        pending.push({ account, challengeId: await passwordStep(client, account) });
      },
    );
    codes = await runAll(pending, CONCURRENCY, async ({ account, challengeId }) => {
      await codeStep(client, account, challengeId);
    });
    log(`     ${summary(codes)}`);
  }
  if (tokens.length === 0) throw new Error(`no sign-in succeeded: ${flows.firstError}`);
  log(`   session checks (GET /api/v1/me), ${SESSION_CONCURRENCY} in flight over ${tokens.length} sessions`);
  let i = 0;
  const sessions = await runFor({ concurrency: SESSION_CONCURRENCY, seconds: SECONDS, warmup: WARMUP }, async () => {
    const token = tokens[i++ % tokens.length] as string;
    const answer = await client.request('GET', '/api/v1/me', { headers: { authorization: `Bearer ${token}` } });
    if (answer.status !== 200) throw new Error(`GET /api/v1/me: ${answer.status} ${answer.body}`);
  });
  log(`     ${summary(sessions)}`);
  return { flows, ...(codes ? { codes } : {}), sessions };
}

/**
 * A round of flows and session checks before anything is measured, so that the first measured phase
 * does not pay for the JIT, the pools and PostgreSQL's caches warming up while the later ones do not
 * (the 1,000,000-account phase runs second; without this round, the comparison flattered it).
 */
async function warmUpRound(client: Client, next: () => SeededAccount): Promise<void> {
  const tokens: string[] = [];
  await runFor({ concurrency: CONCURRENCY, seconds: WARMUP * 2, warmup: 0 }, async () => {
    const account = next();
    tokens.push(await codeStep(client, account, await passwordStep(client, account)));
  });
  let i = 0;
  await runFor({ concurrency: SESSION_CONCURRENCY, seconds: WARMUP * 2, warmup: 0 }, async () => {
    await client.request('GET', '/api/v1/me', {
      headers: { authorization: `Bearer ${tokens[i++ % tokens.length] as string}` },
    });
  });
}

/** SPEC §6: a revoked session fails on its very next request, on any node. Throws when it does not. */
async function assertRevocation(a: Client, b: Client, account: SeededAccount): Promise<string> {
  const token = await codeStep(a, account, await passwordStep(a, account));
  const me = (client: Client) => client.request('GET', '/api/v1/me', { headers: { authorization: `Bearer ${token}` } });
  // Three checks on B: the first learns whose session it is, the second caches it, the third is a cache hit.
  for (let i = 0; i < 3; i += 1) {
    const before = await me(b);
    if (before.status !== 200) throw new Error(`the new session is not accepted on node B: ${before.status}`);
  }
  const sessionId = token.split('.')[0] as string;
  const revoked = await a.request('DELETE', `/api/v1/sessions/${sessionId}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  if (revoked.status !== 204) throw new Error(`revoking on node A: ${revoked.status} ${revoked.body}`);
  const [onB, onA] = [await me(b), await me(a)];
  if (onB.status !== 401 || onA.status !== 401)
    throw new Error(`a session revoked on node A still answered: node B ${onB.status}, node A ${onA.status}`);
  return 'cached on node B (three checks), revoked on node A, refused on its very next request on node B (401) and on node A (401)';
}

async function loadPeer(): Promise<StartBetterAuth | string> {
  const file = new URL('./peers/better-auth.ts', import.meta.url);
  if (!existsSync(file))
    return 'bench/peers/better-auth.ts is not there (it comes from its own branch): Better Auth skipped';
  const module = (await import(file.href)) as { startBetterAuth?: StartBetterAuth };
  return module.startBetterAuth ?? 'bench/peers/better-auth.ts has no startBetterAuth: Better Auth skipped';
}

interface PeerPhase {
  flows: Measured;
  codes: Measured;
  sessions: Measured;
  cachedSessions: Measured;
}

async function peerPhase(startBetterAuth: StartBetterAuth, dbUrl: string): Promise<PeerPhase> {
  const peer = await startBetterAuth({ databaseUrl: dbUrl, port: await freePort() });
  try {
    const password = 'peer bench password 42';
    const emails = await peer.seed(PEER_ACCOUNTS, password);
    let i = 0;
    const nextEmail = () => emails[i++ % emails.length] as string;
    const cookies: string[] = [];
    log(`   full sign-in flows, ${CONCURRENCY} in flight, ${WARMUP}+${SECONDS} s`);
    const flows = await runFor({ concurrency: CONCURRENCY, seconds: SECONDS, warmup: WARMUP }, async () => {
      const started = await peer.signIn(nextEmail(), password);
      const session = await peer.verifyOtp(started.cookie, await started.otpFor());
      if (cookies.length < 5000) cookies.push(session);
    });
    log(`     ${summary(flows)}`);
    const wanted = Math.max(CONCURRENCY * 4, flows.count);
    const pending: { cookie: string; otp: string }[] = [];
    log(`   code verifications: ${wanted} password steps first (not timed), then their codes`);
    await runAll(
      Array.from({ length: wanted }, () => nextEmail()),
      CONCURRENCY,
      async (email) => {
        const started = await peer.signIn(email, password);
        pending.push({ cookie: started.cookie, otp: await started.otpFor() });
      },
    );
    const codes = await runAll(pending, CONCURRENCY, async ({ cookie, otp }) => {
      await peer.verifyOtp(cookie, otp);
    });
    log(`     ${summary(codes)}`);
    if (cookies.length === 0) throw new Error(`no Better Auth sign-in succeeded: ${flows.firstError}`);
    const check = (cookieCache: boolean) => {
      let j = 0;
      return runFor({ concurrency: SESSION_CONCURRENCY, seconds: SECONDS, warmup: WARMUP }, () =>
        peer.sessionCheck(cookies[j++ % cookies.length] as string, { cookieCache }),
      );
    };
    log(`   session checks (${peer.sessionCheckPath}) without its cookie cache`);
    const sessions = await check(false);
    log(`     ${summary(sessions)}`);
    log('   session checks with its cookie cache');
    const cachedSessions = await check(true);
    log(`     ${summary(cachedSessions)}`);
    return { flows, codes, sessions, cachedSessions };
  } finally {
    await peer.close();
  }
}

async function hashCeiling(): Promise<{ perSecond: number; threads: number; inFlight: number }> {
  const file = new URL('./hash-ceiling.ts', import.meta.url).pathname;
  const result = await run(
    [file, String(SECONDS), String(COST.memoryKib), String(COST.iterations)],
    serverEnv('unused'),
  );
  if (result.code !== 0) throw new Error(`hash ceiling failed:\n${result.output}`);
  return JSON.parse(result.output.trim().split('\n').at(-1) as string);
}

function summary(m: Measured): string {
  const failed = m.failed ? `, ${m.failed} failed (first: ${m.firstError})` : '';
  return `${m.perSecond.toFixed(1)}/s, p50 ${m.p50.toFixed(1)} ms, p99 ${m.p99.toFixed(1)} ms (${m.count} counted${failed})`;
}

function cell(m: Measured | undefined): string {
  if (!m) return '–';
  const failed = m.failed ? ` (${m.failed} failed)` : '';
  return `${m.perSecond.toFixed(1)}/s · p50 ${m.p50.toFixed(1)} ms · p99 ${m.p99.toFixed(1)} ms${failed}`;
}

function ratioRow(what: string, value: number | undefined, target: number, strict = false): string {
  if (value === undefined || !Number.isFinite(value))
    return `| ${what} | – | ${strict ? '>' : '≥'} ${target}× | not measured |`;
  const met = strict ? value > target : value >= target;
  return `| ${what} | ${value.toFixed(2)}× | ${strict ? '>' : '≥'} ${target}× | ${met ? '**met**' : '**not met**'} |`;
}

function packageVersion(name: string): string {
  const file = new URL(`../node_modules/${name}/package.json`, import.meta.url);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version : 'not installed';
}

async function serverVersions(): Promise<{ postgres: string; redis: string }> {
  const postgres = await admin(async (c) => String((await c.query('show server_version')).rows[0]?.server_version));
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  const info = await redis.info('server');
  redis.disconnect();
  return { postgres, redis: /redis_version:(\S+)/.exec(info)?.[1] ?? '?' };
}

function writeResults(section: string): void {
  const start = '<!-- bench:signin:start (written by bench/run.ts) -->';
  const end = '<!-- bench:signin:end -->';
  const block = `${start}\n${section}\n${end}`;
  const old = existsSync(args.out) ? readFileSync(args.out, 'utf8') : '# Benchmark results\n';
  const from = old.indexOf(start);
  const to = old.indexOf(end);
  const next =
    from >= 0 && to > from ? old.slice(0, from) + block + old.slice(to + end.length) : `${old.trimEnd()}\n\n${block}\n`;
  writeFileSync(args.out, next);
}

async function main(): Promise<void> {
  const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
  const dbName = `twostep_bench_${stamp}`;
  const peerDbName = `${dbName}_better_auth`;
  const dbUrl = databaseUrl(dbName);
  const versions = await serverVersions();
  const startPeer = await loadPeer();
  await admin((c) => c.query(`create database ${dbName}`));
  const nodes: Node[] = [];
  const clients: Client[] = [];
  try {
    const db = await openDatabase({ databaseUrl: dbUrl, poolSize: 1 });
    await migrateToLatest(db);
    await db.destroy();
    log(`== database ${dbName}; seeding ${SMALL} accounts`);
    const smallSeedSeconds = await seed(dbUrl, 0, SMALL);
    log(`   seeded in ${smallSeedSeconds.toFixed(1)} s`);
    log('== hash ceiling');
    const ceiling = await hashCeiling();
    log(`   ${ceiling.perSecond.toFixed(1)} hashes/s on ${ceiling.threads} threads (${ceiling.inFlight} in flight)`);
    nodes.push(await startNode(dbUrl), await startNode(dbUrl));
    const [a, b] = nodes.map((n) => httpClient(n.baseUrl, Math.max(CONCURRENCY, SESSION_CONCURRENCY))) as [
      Client,
      Client,
    ];
    clients.push(a, b);
    const next = accountCursor(0, SMALL);
    const revocation = await assertRevocation(a, b, next());
    log(`== revocation: ${revocation}`);
    log(`== warm-up round, not counted (${WARMUP * 2} s of flows, ${WARMUP * 2} s of session checks)`);
    await warmUpRound(a, next);
    log(`== Twostep, ${SMALL} accounts (node A of 2)`);
    const small = await twostepPhase(a, next, true);

    let peer: PeerPhase | string;
    if (typeof startPeer === 'string') {
      peer = startPeer;
      log(`== ${peer}`);
    } else {
      log('== Better Auth');
      await admin((c) => c.query(`create database ${peerDbName}`));
      peer = await peerPhase(startPeer, databaseUrl(peerDbName));
    }

    let large: Phase | undefined;
    let largeSeedSeconds: number | undefined;
    if (ACCOUNTS > SMALL) {
      log(`== seeding ${ACCOUNTS - SMALL} more accounts (to ${ACCOUNTS})`);
      largeSeedSeconds = await seed(dbUrl, SMALL, ACCOUNTS - SMALL);
      // As autovacuum and the checkpointer would have by now on a database that grew this large; left
      // to run on their own they would take cores from the measurement that follows.
      const client = new pg.Client({ connectionString: dbUrl });
      await client.connect();
      await client.query('vacuum (analyze)');
      // CHECKPOINT needs a superuser (or pg_checkpoint); without one, the measurement shares the disk with it.
      await client.query('checkpoint').catch(() => log('   (no permission to CHECKPOINT: skipped)'));
      await client.end();
      log(`   seeded in ${largeSeedSeconds.toFixed(1)} s`);
      log(`== Twostep, ${ACCOUNTS} accounts`);
      large = await twostepPhase(a, accountCursor(SMALL, ACCOUNTS), false);
    }

    const p = typeof peer === 'string' ? undefined : peer;
    const rows = [
      '| measure | Twostep | Better Auth |',
      '|---|---|---|',
      `| hash ceiling: argon2id m=${COST.memoryKib} t=${COST.iterations} p=1, ${ceiling.threads} threads | ${ceiling.perSecond.toFixed(1)} hashes/s | – |`,
      `| full sign-in flows (password + code), ${CONCURRENCY} in flight, ${SMALL} accounts | ${cell(small.flows)} | ${cell(p?.flows)} |`,
      `| code verifications, ${CONCURRENCY} in flight | ${cell(small.codes)} | ${cell(p?.codes)} |`,
      `| session checks, ${SESSION_CONCURRENCY} in flight | ${cell(small.sessions)} | ${cell(p?.sessions)} |`,
      `| session checks, Better Auth with its cookie cache | – | ${cell(p?.cachedSessions)} |`,
      ...(large
        ? [
            `| full sign-in flows, ${ACCOUNTS} accounts | ${cell(large.flows)} | – |`,
            `| session checks, ${ACCOUNTS} accounts | ${cell(large.sessions)} | – |`,
          ]
        : []),
    ];
    const ratios = [
      '| ratio | measured | target | |',
      '|---|---|---|---|',
      ratioRow(
        'full flows: Twostep / Better Auth',
        p && small.flows.perSecond / p.flows.perSecond,
        TARGETS.flowsVsPeer,
      ),
      ratioRow('full flows: Twostep / hash ceiling', small.flows.perSecond / ceiling.perSecond, TARGETS.flowsVsCeiling),
      ratioRow(
        'session checks: Twostep / Better Auth without cookie cache',
        p && small.sessions.perSecond / p.sessions.perSecond,
        TARGETS.sessionsVsPeer,
      ),
      ratioRow(
        'session checks: Twostep / Better Auth with cookie cache',
        p && small.sessions.perSecond / p.cachedSessions.perSecond,
        TARGETS.sessionsVsCachedPeer,
        true,
      ),
      ratioRow(
        `full flows: ${ACCOUNTS} / ${SMALL} accounts`,
        large && large.flows.perSecond / small.flows.perSecond,
        TARGETS.largeVsSmall,
      ),
      ratioRow(
        `session checks: ${ACCOUNTS} / ${SMALL} accounts`,
        large && large.sessions.perSecond / small.sessions.perSecond,
        TARGETS.largeVsSmall,
      ),
    ];
    const command = `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim();
    const section = [
      '## Sign-in, code and session throughput (`npm run bench`)',
      '',
      `- command: \`${command}\` (DATABASE_URL admin ${new URL(ADMIN_URL).host}, REDIS_URL ${REDIS_URL})`,
      `- date: ${new Date().toISOString()}`,
      `- machine: ${cpus().length} × ${cpus()[0]?.model.trim()}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB memory`,
      `- Node ${process.version}; fastify ${packageVersion('fastify')}, @node-rs/argon2 ${packageVersion('@node-rs/argon2')}, pg ${packageVersion('pg')}, ioredis ${packageVersion('ioredis')}, better-auth ${packageVersion('better-auth')}`,
      `- servers: PostgreSQL ${versions.postgres}, Redis ${versions.redis} (same machine, loopback); two \`twostep serve\` nodes, load on node A`,
      `- seeding: ${SMALL} accounts in ${smallSeedSeconds.toFixed(1)} s${largeSeedSeconds === undefined ? '' : `, then ${ACCOUNTS - SMALL} more in ${largeSeedSeconds.toFixed(1)} s (not part of any ratio)`}`,
      `- each measurement: ${WARMUP} s warm-up (not counted) + ${SECONDS} s, after one warm-up round of flows and session checks (${WARMUP * 2} s each, not counted); codes from the seeded accounts' authenticator apps (TOTP)`,
      `- revocation: ${revocation}`,
      ...(typeof peer === 'string' ? [`- Better Auth: ${peer}`] : []),
      '',
      ...rows,
      '',
      ...ratios,
    ].join('\n');
    log(`\n${section}\n`);
    writeResults(section);
    log(`written to ${args.out}`);
  } finally {
    for (const client of clients) client.close();
    await Promise.all(nodes.map(stopNode));
    await admin(async (c) => {
      await c.query(`drop database if exists ${dbName} with (force)`);
      await c.query(`drop database if exists ${peerDbName} with (force)`);
    });
  }
}

await main();
