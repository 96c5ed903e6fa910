// Push delivery benchmark (bench/README.md): N devices connected to one node on loopback, challenges
// issued at a fixed rate; latency from the start of issueChallenge to the device receiving the frame,
// and server memory per connected device. Writes bench/RESULTS.md.
//
//   npm run bench:push [-- --devices 10000 --rate 200 --seconds 20 --warmup 3]
import { type ChildProcess, execFileSync, fork } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import pg from 'pg';
import { createDeviceKeys } from '../src/device/keys.ts';
import type { ConnectCommand } from './push-clients.ts';
import type { Issued, Memory, RunCommand, StartCommand } from './push-server.ts';

const { values: args } = parseArgs({
  options: {
    devices: { type: 'string', default: '10000' },
    rate: { type: 'string', default: '200' },
    seconds: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '3' },
    cases: { type: 'string', default: 'servers,embedded,bare' },
    out: { type: 'string', default: new URL('./RESULTS.md', import.meta.url).pathname },
  },
});
const DEVICES = Number(args.devices);
const RATE = Number(args.rate);
const SECONDS = Number(args.seconds);
const WARMUP = Number(args.warmup);
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const TARGET = { p50: 2, p99: 10, kibPerDevice: 16 };

interface Child {
  process: ChildProcess;
  request<T>(message: Record<string, unknown>, reply: string, timeoutMs: number): Promise<T>;
}

function start(file: string): Promise<Child> {
  const child = fork(new URL(file, import.meta.url).pathname, [], {
    execArgv: ['--expose-gc', '--disable-warning=ExperimentalWarning'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'advanced',
  });
  const request = <T>(message: Record<string, unknown>, reply: string, timeoutMs: number): Promise<T> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${file}: no ${reply} within ${timeoutMs} ms`)), timeoutMs);
      const onMessage = (answer: { type: string; message?: string }): void => {
        if (answer.type !== reply && answer.type !== 'error') return;
        clearTimeout(timer);
        child.off('message', onMessage);
        if (answer.type === 'error') reject(new Error(`${file}: ${answer.message}`));
        else resolve(answer as T);
      };
      child.on('message', onMessage);
      child.send(message);
    });
  return new Promise((resolve, reject) => {
    child.once('message', () => resolve({ process: child, request }));
    child.once('exit', (code) => reject(new Error(`${file} exited with ${code}`)));
  });
}

async function stop(child: Child): Promise<void> {
  await child.request({ cmd: 'stop' }, 'stopped', 30_000).catch(() => child.process.kill('SIGKILL'));
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

interface CaseResult {
  name: string;
  backends: string;
  issued: number;
  delivered: number;
  failed: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** Median time until issueChallenge returned (both inserts and the publish). */
  returnP50: number;
  rssKibPerDevice: number;
  heapKibPerDevice: number;
  externalKibPerDevice: number;
  rssBeforeMib: number;
  rssAfterMib: number;
  connectSeconds: number;
  cpuPercent: number;
}

async function runCase(name: string, mode: 'app' | 'bare', servers: boolean): Promise<CaseResult> {
  console.log(`\n== ${name}: ${DEVICES} devices, ${RATE}/s for ${WARMUP}+${SECONDS} s`);
  const keys = createDeviceKeys();
  const server = await start('./push-server.ts');
  const clients = await start('./push-clients.ts');
  try {
    const started = await server.request<{ port: number; credentials: string[]; backends: string }>(
      {
        cmd: 'start',
        mode,
        devices: DEVICES,
        publicKey: keys.publicKey,
        ...(servers ? { databaseUrl: DATABASE_URL, redisUrl: REDIS_URL } : {}),
      } satisfies StartCommand,
      'started',
      300_000,
    );
    console.log(`   seeded; server on port ${started.port} (${started.backends})`);
    const before = await server.request<{ memory: Memory }>({ cmd: 'mem' }, 'mem', 30_000);
    const url =
      mode === 'app' ? `ws://127.0.0.1:${started.port}/api/v1/devices/connect` : `ws://127.0.0.1:${started.port}`;
    const connected = await clients.request<{ opened: number; failed: number; ms: number }>(
      {
        cmd: 'connect',
        url,
        credentials: started.credentials,
        count: DEVICES,
        privateKeyPem: keys.privateKeyPem,
        parallel: 100,
      } satisfies ConnectCommand,
      'connected',
      600_000,
    );
    console.log(
      `   connected ${connected.opened} (${connected.failed} failed) in ${(connected.ms / 1000).toFixed(1)} s`,
    );
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const after = await server.request<{ memory: Memory; connected: number }>({ cmd: 'mem' }, 'mem', 30_000);
    console.log(`   server sees ${after.connected} connected; rss ${(after.memory.rss / 2 ** 20).toFixed(0)} MiB`);
    if (after.connected !== DEVICES) throw new Error(`only ${after.connected} of ${DEVICES} devices connected`);

    const ran = await server.request<{ issued: Issued[]; failed: number; cpuMs: number }>(
      { cmd: 'run', rate: RATE, seconds: WARMUP + SECONDS } satisfies RunCommand,
      'ran',
      (WARMUP + SECONDS) * 1000 + 120_000,
    );
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const report = await clients.request<{ receipts: [string, number][]; unexpectedCloses: number }>(
      { cmd: 'report' },
      'report',
      30_000,
    );
    const received = new Map(report.receipts);
    const measured = ran.issued.filter(([, startNs]) => startNs >= (ran.issued[0]?.[1] ?? 0) + WARMUP * 1e9);
    const latencies: number[] = [];
    const returned: number[] = [];
    for (const [id, startNs, returnedNs] of measured) {
      returned.push((returnedNs - startNs) / 1e6);
      const at = received.get(id);
      if (at !== undefined) latencies.push((at - startNs) / 1e6);
    }
    latencies.sort((x, y) => x - y);
    returned.sort((x, y) => x - y);
    const kib = (bytes: number): number => bytes / 1024 / DEVICES;
    const result: CaseResult = {
      name,
      backends: started.backends,
      issued: measured.length,
      delivered: latencies.length,
      failed: ran.failed,
      p50: percentile(latencies, 50),
      p90: percentile(latencies, 90),
      p99: percentile(latencies, 99),
      max: latencies.at(-1) ?? Number.NaN,
      returnP50: percentile(returned, 50),
      rssKibPerDevice: kib(after.memory.rss - before.memory.rss),
      heapKibPerDevice: kib(after.memory.heapUsed - before.memory.heapUsed),
      externalKibPerDevice: kib(after.memory.external - before.memory.external),
      rssBeforeMib: before.memory.rss / 2 ** 20,
      rssAfterMib: after.memory.rss / 2 ** 20,
      connectSeconds: connected.ms / 1000,
      cpuPercent: (ran.cpuMs / ((WARMUP + SECONDS) * 1000)) * 100,
    };
    console.log(
      `   p50 ${result.p50.toFixed(2)} ms, p99 ${result.p99.toFixed(2)} ms, max ${result.max.toFixed(1)} ms; ` +
        `${result.delivered}/${result.issued} delivered; ${result.rssKibPerDevice.toFixed(1)} KiB RSS/device; ` +
        `server CPU ${result.cpuPercent.toFixed(0)}%`,
    );
    return result;
  } finally {
    await stop(clients);
    await stop(server);
  }
}

async function serverVersions(): Promise<{ postgres?: string; redis?: string }> {
  const found: { postgres?: string; redis?: string } = {};
  const client = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    found.postgres = String((await client.query('show server_version')).rows[0]?.server_version);
  } catch {
    // not available: the server cases are skipped
  } finally {
    await client.end().catch(() => {});
  }
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    await redis.connect();
    found.redis = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1];
  } catch {
    // not available
  } finally {
    redis.disconnect();
  }
  return found;
}

function packageVersion(name: string): string {
  const url = new URL(`../node_modules/${name}/package.json`, import.meta.url);
  return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version;
}

function openFileLimit(): number {
  try {
    return Number(execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim());
  } catch {
    return Number.NaN;
  }
}

const ms = (value: number): string => `${value.toFixed(2)} ms`;
const verdict = (value: number, limit: number): string => (value <= limit ? 'met' : 'MISSED');

async function main(): Promise<void> {
  const limit = openFileLimit();
  if (limit < DEVICES + 1000) {
    console.error(`open-file limit ${limit} is too low for ${DEVICES} sockets: run \`ulimit -n ${DEVICES + 1000}\``);
    process.exit(1);
  }
  const versions = await serverVersions();
  const cases = new Set(String(args.cases).split(','));
  const results: CaseResult[] = [];
  if (cases.has('servers')) {
    if (versions.postgres && versions.redis) results.push(await runCase('push', 'app', true));
    else console.log('\n== PostgreSQL or Redis does not answer: the server case is skipped');
  }
  if (cases.has('embedded')) {
    results.push(await runCase(results.length === 0 ? 'push' : 'push (embedded)', 'app', false));
  }
  if (cases.has('bare')) results.push(await runCase('baseline: plain ws', 'bare', false));

  const bare = results.find((r) => r.name.startsWith('baseline'));
  const rows = results.map((r) => {
    const ratio = bare && r !== bare ? ` (×${(r.p50 / bare.p50).toFixed(1)} / ×${(r.p99 / bare.p99).toFixed(1)})` : '';
    return (
      `| ${r.name} | ${r.backends} | p50 ${ms(r.p50)} | p90 ${ms(r.p90)} | p99 ${ms(r.p99)} | max ${ms(r.max)} |` +
      ` ${r.rssKibPerDevice.toFixed(1)} KiB/device | ${r.heapKibPerDevice.toFixed(1)} KiB | ${r.delivered}/${r.issued}` +
      ` | ${r.cpuPercent.toFixed(0)}% |${ratio ? ` ${ratio.trim()}` : ' –'} |`
    );
  });
  const headline = results[0];
  const command = `npm run bench:push -- --devices ${DEVICES} --rate ${RATE} --seconds ${SECONDS} --warmup ${WARMUP}`;
  const text = `# Benchmark results

Written by \`bench/push.ts\` (see bench/README.md for what is measured and how). The part above the notes marker is rewritten by every run.

- command: \`${command}\`
- date: ${new Date().toISOString()}
- machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB memory, open-file limit ${limit}
- Node ${process.version}; fastify ${packageVersion('fastify')}, @fastify/websocket ${packageVersion('@fastify/websocket')}, ws ${packageVersion('ws')}, ioredis ${packageVersion('ioredis')}, pg ${packageVersion('pg')}, @electric-sql/pglite ${packageVersion('@electric-sql/pglite')}
- servers: PostgreSQL ${versions.postgres ?? 'not available'}, Redis ${versions.redis ?? 'not available'} (same machine, loopback)
- load: ${DEVICES} connected devices, ${RATE} challenges/s for ${SECONDS} s after ${WARMUP} s of warm-up (not counted), each to one random device

## Push delivery

Latency: from just before \`issueChallenge\` is called on the server to the device's process receiving the frame.
Memory: server RSS after all devices connected minus before, after a full GC, divided by ${DEVICES}; heap likewise.

| case | backends | p50 | p90 | p99 | max | RSS per device | heap per device | delivered | server CPU | ×plain ws (p50 / p99) |
|---|---|---|---|---|---|---|---|---|---|---|
${rows.join('\n')}

Targets (first row): p50 ≤ ${TARGET.p50} ms: **${headline ? verdict(headline.p50, TARGET.p50) : 'n/a'}**, p99 ≤ ${TARGET.p99} ms: **${headline ? verdict(headline.p99, TARGET.p99) : 'n/a'}**, memory ≤ ${TARGET.kibPerDevice} KiB/device: **${headline ? verdict(headline.rssKibPerDevice, TARGET.kibPerDevice) : 'n/a'}**.

Details: ${results
    .map(
      (r) =>
        `${r.name}: connecting took ${r.connectSeconds.toFixed(1)} s, server RSS ${r.rssBeforeMib.toFixed(0)} → ${r.rssAfterMib.toFixed(0)} MiB, ` +
        `external ${r.externalKibPerDevice.toFixed(1)} KiB/device, issueChallenge returned after ${ms(r.returnP50)} (p50), ${r.failed} failed`,
    )
    .join('; ')}.
`;
  // Hand-written findings below the marker survive a new run.
  const marker = '<!-- notes: kept by bench/push.ts -->';
  const previous = existsSync(String(args.out)) ? readFileSync(String(args.out), 'utf8') : '';
  const notes = previous.includes(marker) ? previous.slice(previous.indexOf(marker)) : `${marker}\n`;
  writeFileSync(String(args.out), `${text}\n${notes}`);
  console.log(`\n${rows.join('\n')}\n\nwritten to ${args.out}`);
}

await main();
