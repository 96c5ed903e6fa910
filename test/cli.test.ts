// The `twostep` command as an operator uses it: help, config, migrate, serve and a clean SIGTERM.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';

const main = new URL('../src/main.ts', import.meta.url).pathname;
const dataDir = mkdtempSync(join(tmpdir(), 'twostep-cli-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function start(args: string[], env: Record<string, string> = {}): { child: ChildProcess; done: Promise<Run> } {
  // Only what the command needs: no DATABASE_URL or REDIS_URL from the test run leaks in unless given.
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', main, ...args], {
    env: { PATH: process.env.PATH ?? '', DATA_DIR: dataDir, ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d) => {
    stdout += d;
  });
  child.stderr?.on('data', (d) => {
    stderr += d;
  });
  const done = new Promise<Run>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return { child, done };
}

function run(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return start(args, env).done;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof address === 'object' && address ? address.port : 0;
}

describe('twostep CLI', () => {
  test('--help on the program and on every command', async () => {
    const top = await run(['--help']);
    assert.equal(top.code, 0);
    for (const command of ['serve', 'migrate', 'config']) assert.match(top.stdout, new RegExp(command));
    for (const command of ['serve', 'migrate', 'config']) {
      const help = await run([command, '--help']);
      assert.equal(help.code, 0, command);
      assert.match(help.stdout, /--port <value>/);
      assert.match(help.stdout, /DATABASE_URL/);
    }
  });

  test('config prints the effective values with secrets masked', async () => {
    const result = await run(['config', '--port', '4321'], {
      TWOSTEP_SECRET: 'a-very-secret-value-of-forty-characters!!',
      DATABASE_URL: 'postgres://u:pw-in-url@db/x',
    });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^PORT\s+4321$/m);
    assert.match(result.stdout, /^TWOSTEP_SECRET\s+\*+$/m);
    assert.doesNotMatch(result.stdout, /a-very-secret-value|pw-in-url/);
  });

  test('a bad value stops the program with a clear message and exit code 78', async () => {
    const result = await run(['config'], { PORT: 'http', SESSION_IDLE_MINUTES: '0' });
    assert.equal(result.code, 78);
    assert.match(result.stderr, /PORT="http": must be a whole number/);
    assert.match(result.stderr, /SESSION_IDLE_MINUTES="0": must be between 1 and 60/);
  });

  test('production refuses development defaults', async () => {
    const result = await run(['serve'], { NODE_ENV: 'production' });
    assert.equal(result.code, 78);
    assert.match(result.stderr, /outbox is refused/);
    assert.match(result.stderr, /generated one/);
  });

  test('migrate creates the embedded database, then has nothing to do', async () => {
    const first = await run(['migrate']);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /applied: 0001/);
    const second = await run(['migrate']);
    assert.match(second.stdout, /up to date/);
  });

  test('serve answers on its port and shuts down cleanly on SIGTERM', async () => {
    const port = await freePort();
    const { child, done } = start(['serve', '--port', String(port), '--host', '127.0.0.1']);
    const ready = await new Promise<boolean>((resolve) => {
      child.stdout?.on('data', (d: Buffer) => {
        if (String(d).includes('Twostep is running at')) resolve(true);
      });
      child.on('close', () => resolve(false));
    });
    assert.ok(ready, 'the server printed its URL');
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    assert.equal(health.status, 200);
    child.kill('SIGTERM');
    const result = await done;
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /development outbox/);
    assert.match(result.stdout, /shutting down/);
  });

  test('rollout: apply the apple-2013 preset, list, change one country, refuse a bad code', async () => {
    const applied = await run(['rollout', 'apply-preset', 'apple-2013']);
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(applied.stdout, /two-step verification in 20 countries/);
    const listed = await run(['rollout', 'list', '--enabled']);
    assert.equal(listed.stdout.trim().split('\n').length, 21, 'a header and 20 countries');
    assert.match(listed.stdout, /^NL\s+yes\s+yes\s+2013-05-10$/m);
    const disabled = await run(['rollout', 'disable', 'nl']);
    assert.match(disabled.stdout, /NL: two-step no/);
    assert.doesNotMatch((await run(['rollout', 'list', '--enabled'])).stdout, /^NL/m);
    const bad = await run(['rollout', 'enable', 'XX']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /INVALID_COUNTRY/);
  });
});
