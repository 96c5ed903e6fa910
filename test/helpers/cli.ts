// The real `twostep` command in a child process, as a user or script drives it: write to its stdin,
// wait for lines on its stdout or stderr, wait for its exit. Every wait is bounded, so a hang fails
// the test instead of blocking the run.
import { type ChildProcess, spawn } from 'node:child_process';

const MAIN = new URL('../../src/main.ts', import.meta.url).pathname;
export const WAIT_MS = 15_000;

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunningCli {
  child: ChildProcess;
  stdoutLines: string[];
  stderrLines: string[];
  write(text: string): void;
  /** Resolves with the first stdout line (seen or still to come) that matches; fails after `timeoutMs`. */
  nextLine(match: (line: string) => boolean, what: string, timeoutMs?: number): Promise<string>;
  /** Like nextLine, for stderr (where prompts and progress go). */
  nextErrorLine(match: (line: string) => boolean, what: string, timeoutMs?: number): Promise<string>;
  /** Like nextLine, for stdout lines that are JSON objects. */
  nextEvent(match: (event: Record<string, unknown>) => boolean, what: string): Promise<Record<string, unknown>>;
  /** Resolves when the process has exited; fails after `timeoutMs`. */
  done(timeoutMs?: number): Promise<CliResult>;
}

function bounded<T>(promise: Promise<T>, timeoutMs: number, what: string, dump: () => string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${dump()}`)),
      timeoutMs,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function parseJson(line: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(line);
    return typeof value === 'object' && value !== null ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Spawns `twostep …` on this Node with only PATH, HOME and the given variables in its environment. */
export function startCli(args: string[], env: Record<string, string> = {}): RunningCli {
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', MAIN, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/nonexistent', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const stdoutLines: string[] = [];
  const stderrLines: string[] = [];
  let stdout = '';
  let stderr = '';
  type Waiter = { match: (line: string) => boolean; resolve: (line: string) => void };
  const stdoutWaiters: Waiter[] = [];
  const stderrWaiters: Waiter[] = [];
  const collect = (into: string[], waiters: Waiter[]) => {
    let partial = '';
    return (chunk: Buffer): void => {
      const parts = (partial + String(chunk)).split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) {
        into.push(line);
        for (const waiter of [...waiters]) {
          if (waiter.match(line)) {
            waiters.splice(waiters.indexOf(waiter), 1);
            waiter.resolve(line);
          }
        }
      }
    };
  };
  const onStdout = collect(stdoutLines, stdoutWaiters);
  const onStderr = collect(stderrLines, stderrWaiters);
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk;
    onStdout(chunk);
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk;
    onStderr(chunk);
  });
  // A child that exits early must not turn a later write into an unhandled EPIPE.
  child.stdin?.on('error', () => {});
  const exited = new Promise<CliResult>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  const dump = (): string => `stdout:\n${stdout}\nstderr:\n${stderr}`;
  const waitFor =
    (lines: string[], waiters: Waiter[]) =>
    (match: (line: string) => boolean, what: string, timeoutMs = WAIT_MS): Promise<string> => {
      const seen = lines.find(match);
      if (seen !== undefined) return Promise.resolve(seen);
      const found = new Promise<string>((resolve) => waiters.push({ match, resolve }));
      return bounded(found, timeoutMs, what, dump);
    };
  const nextLine = waitFor(stdoutLines, stdoutWaiters);
  return {
    child,
    stdoutLines,
    stderrLines,
    write(text) {
      child.stdin?.write(text);
    },
    nextLine,
    nextErrorLine: waitFor(stderrLines, stderrWaiters),
    async nextEvent(match, what) {
      const line = await nextLine((l) => {
        const event = parseJson(l);
        return event !== undefined && match(event);
      }, what);
      return parseJson(line) as Record<string, unknown>;
    },
    done(timeoutMs = WAIT_MS) {
      return bounded(exited, timeoutMs, 'the command to exit', dump);
    },
  };
}

/** Runs `twostep …` to its end with `input` on stdin. */
export function runCli(args: string[], input = '', env: Record<string, string> = {}): Promise<CliResult> {
  const cli = startCli(args, env);
  cli.child.stdin?.end(input);
  return cli.done();
}
