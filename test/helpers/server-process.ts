// A real `twostep serve` process on 127.0.0.1, as an operator runs it: started with only the
// environment it is given, stopped with SIGTERM or killed with SIGKILL, restarted on the same data.
// Every wait is bounded, so a server that hangs fails the run instead of blocking it.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { freePort, TEST_SECRET } from './app.ts';
import type { MemorySample } from './memory-probe.ts';

const MAIN = new URL('../../src/main.ts', import.meta.url).pathname;
const MEMORY_PROBE = new URL('./memory-probe.ts', import.meta.url).pathname;
const MEMORY_SAMPLE_TIMEOUT_MS = 10_000;
const BOOT_TIMEOUT_MS = 90_000;

/** Rejects when the promise does not settle in time. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export interface ServerProcess {
  baseUrl: string;
  child: ChildProcess;
  output(): string;
  /** Resident set size of the server process in bytes (Linux /proc). */
  rssBytes(): number;
  /** Memory after a full garbage collection, from inside the process; only with `memoryProbe`. */
  memory(): Promise<MemorySample>;
  kill(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Settings the load needs: the per-address and per-account send limits are what a single test
 * client on loopback would otherwise hit first; the budgets per code and per challenge stay as shipped.
 */
export const LOAD_SETTINGS: Record<string, string> = {
  SIGNIN_FREE_FAILURES_PER_IP: '10000',
  SMS_PER_IP_PER_DAY: '10000',
  // The load's users sign in many times a day, far past a person's daily texts (sms-pumping tests those caps).
  SMS_PER_NUMBER_PER_DAY: '100',
  SMS_PER_ACCOUNT_PER_DAY: '1000',
  CODE_SEND_INTERVAL_SECONDS: '0',
  CODE_SENDS_PER_HOUR: '100',
  PASSWORD_RESET_INTERVAL_SECONDS: '0',
  WAITING_PERIOD_DAYS: '0',
  // Password resets carry the address of their user in X-Forwarded-For (http-load.ts).
  TRUST_PROXY: 'true',
};

export interface StartOptions {
  port?: number;
  /**
   * Runs the server with `--expose-gc` and test/helpers/memory-probe.ts over an IPC channel, for
   * `memory()`. The probe forces a full collection per sample: for the soak, not for timing tests.
   */
  memoryProbe?: boolean;
}

export async function startServer(env: Record<string, string>, options: StartOptions = {}): Promise<ServerProcess> {
  const listenPort = options.port ?? (await freePort());
  const baseUrl = `http://127.0.0.1:${listenPort}`;
  const probeArgs = options.memoryProbe ? ['--expose-gc', '--import', MEMORY_PROBE] : [];
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', ...probeArgs, MAIN, 'serve'], {
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'test',
      TWOSTEP_SECRET: TEST_SECRET,
      LOG_LEVEL: 'warn',
      PUBLIC_URL: baseUrl,
      PORT: String(listenPort),
      HOST: '127.0.0.1',
      ...env,
    },
    stdio: options.memoryProbe ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const started = new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer): void => {
      output += d;
      if (output.includes('Twostep is running at')) resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code, signal) => reject(new Error(`twostep serve exited with ${code ?? signal}:\n${output}`)));
  });
  const gone = (): boolean => child.exitCode !== null || child.signalCode !== null;
  const server: ServerProcess = {
    baseUrl,
    child,
    output: () => output,
    rssBytes() {
      // The second field of statm is resident pages.
      const pages = Number(readFileSync(`/proc/${child.pid}/statm`, 'utf8').split(' ')[1]);
      return pages * 4096;
    },
    memory() {
      if (!options.memoryProbe) return Promise.reject(new Error('the server was started without the memory probe'));
      const answer = new Promise<MemorySample>((resolve, reject) => {
        const onMessage = (message: unknown): void => {
          const memory = (message as { memory?: MemorySample } | null)?.memory;
          if (!memory) return;
          child.off('message', onMessage);
          resolve(memory);
        };
        child.on('message', onMessage);
        // A server that has gone away fails the sample instead of raising an 'error' event.
        child.send('memory', (error) => {
          if (error) reject(error);
        });
      });
      return within(answer, MEMORY_SAMPLE_TIMEOUT_MS, 'a memory sample from the server');
    },
    async kill() {
      if (gone()) return;
      child.kill('SIGKILL');
      await within(exited, 10_000, 'the killed server to exit');
    },
    async stop() {
      if (gone()) return;
      child.kill('SIGTERM');
      try {
        await within(exited, 15_000, 'the server to stop');
      } catch {
        await server.kill();
      }
    },
  };
  try {
    await within(started, BOOT_TIMEOUT_MS, 'twostep serve to start');
  } catch (error) {
    await server.kill();
    throw error;
  }
  return server;
}

const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';

/** The PostgreSQL server of this run: DATABASE_URL, else this machine's default if it answers. */
export async function findPostgres(): Promise<string | undefined> {
  const url = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('select 1');
    return url;
  } catch {
    if (process.env.DATABASE_URL) throw new Error(`DATABASE_URL does not answer: ${url}`);
    return undefined;
  } finally {
    await client.end().catch(() => {});
  }
}

export function withSearchPath(url: string, schema: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set('options', `-c search_path=${schema}`);
  return parsed.toString();
}
