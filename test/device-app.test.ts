// The terminal device app as its user meets it (SPEC §6, docs/device-protocol.md): `twostep device
// pair` signs in and saves a 0600 key file, `run` shows pushed codes and answers "This wasn't me",
// `status` asks the server, `forget` removes the device; removal on the account stops a running app.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freePort, GOOD_PASSWORD, startListeningTestApp, type TestApp } from './helpers/app.ts';
import { type CliResult, runCli, startCli } from './helpers/cli.ts';
import { bearer, createVerifiedAccount, signInToken } from './helpers/journeys.ts';
import { enrolTwoStep, otherCode, passwordStep, sendCode, smsCode } from './helpers/two-step.ts';

let t: TestApp & { baseUrl: string };
const home = mkdtempSync(join(tmpdir(), 'twostep-device-app-'));
const env = { HOME: home };
let fileCount = 0;

before(async () => {
  // Resends to one device within 30 s are refused (SPEC §5; tested in two-step-api.test.ts). Redis keeps
  // real time, which the test clock cannot move, so this file turns the gap off.
  t = await startListeningTestApp({ CODE_SEND_INTERVAL_SECONDS: '0' });
});
after(async () => {
  await t.close();
  rmSync(home, { recursive: true, force: true });
});

/** A device file path that does not exist yet, in a folder that does not exist yet either. */
function newFilePath(): string {
  fileCount += 1;
  return join(home, `config-${fileCount}`, 'twostep', 'device.json');
}

interface Paired {
  email: string;
  token: string;
  file: string;
  deviceId: string;
}

async function account(): Promise<{ email: string; token: string }> {
  const { email } = await createVerifiedAccount(t);
  return { email, token: await signInToken(t, email) };
}

async function listDevices(token: string): Promise<{ id: string; name: string; trusted: boolean }[]> {
  const response = await t.request({ method: 'GET', url: '/api/v1/devices', headers: bearer(token) });
  assert.equal(response.statusCode, 200, response.body);
  return response.json().devices;
}

async function pairWithCli(name = 'CLI laptop'): Promise<Paired> {
  const { email, token } = await account();
  const file = newFilePath();
  const result = await runCli(
    ['device', 'pair', '--server', t.baseUrl, '--name', name, '--file', file],
    `${email}\n${GOOD_PASSWORD}\n`,
    env,
  );
  assert.equal(result.code, 0, result.stderr);
  const saved = JSON.parse(readFileSync(file, 'utf8'));
  return { email, token, file, deviceId: saved.deviceId };
}

async function startVerification(token: string, deviceId: string): Promise<string> {
  const response = await t.request({
    method: 'POST',
    url: `/api/v1/devices/${deviceId}/verify`,
    headers: bearer(token),
  });
  assert.equal(response.statusCode, 202, response.body);
  return response.json().challenge.id;
}

async function answer(token: string, challengeId: string, code: string) {
  return t.request({
    method: 'POST',
    url: `/api/v1/challenges/${challengeId}/verify`,
    headers: bearer(token),
    payload: { code },
  });
}

async function sessionCount(token: string): Promise<number> {
  const response = await t.request({ method: 'GET', url: '/api/v1/sessions', headers: bearer(token) });
  assert.equal(response.statusCode, 200, response.body);
  return response.json().sessions.length;
}

function assertFailed(result: CliResult, message: RegExp): void {
  assert.notEqual(result.code, 0, 'a non-zero exit code');
  assert.match(result.stderr, message);
}

describe('twostep device (the terminal device app)', () => {
  test('--help on the group and on every command', async () => {
    const group = await runCli(['device', '--help'], '', env);
    assert.equal(group.code, 0, group.stderr);
    for (const command of ['pair', 'run', 'status', 'forget']) assert.match(group.stdout, new RegExp(command));
    for (const [command, flag] of [
      ['pair', '--server <url>'],
      ['run', '--json'],
      ['status', '--file <path>'],
      ['forget', '--force'],
    ] as const) {
      const help = await runCli(['device', command, '--help'], '', env);
      assert.equal(help.code, 0, command);
      assert.ok(help.stdout.includes(flag), `${command} --help mentions ${flag}`);
    }
    const top = await runCli(['--help'], '', env);
    assert.match(top.stdout, /serve/);
    assert.match(top.stdout, /device/);
  });

  test('pair: email and password on stdin give a 0600 key file and a device on the account', async () => {
    const { email, token } = await account();
    const file = newFilePath();
    const result = await runCli(
      ['device', 'pair', '--server', t.baseUrl, '--name', "Ann's laptop"],
      `${email}\n${GOOD_PASSWORD}\n`,
      { ...env, TWOSTEP_DEVICE_FILE: file },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /Paired "Ann's laptop"/);
    assert.ok(!result.stdout.includes(GOOD_PASSWORD) && !result.stderr.includes(GOOD_PASSWORD), 'never printed');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(join(file, '..')).mode & 0o777, 0o700);
    const saved = JSON.parse(readFileSync(file, 'utf8'));
    assert.deepEqual(Object.keys(saved).sort(), ['credential', 'deviceId', 'name', 'privateKeyPem', 'server']);
    assert.equal(saved.server, t.baseUrl);
    assert.match(saved.privateKeyPem, /BEGIN PRIVATE KEY/);
    const devices = await listDevices(token);
    assert.deepEqual(
      devices.map((d) => [d.id, d.name, d.trusted]),
      [[saved.deviceId, "Ann's laptop", false]],
    );
    // The pairing session was signed out: only the test's own session remains.
    const sessions = await t.request({ method: 'GET', url: '/api/v1/sessions', headers: bearer(token) });
    assert.equal(sessions.json().sessions.length, 1, sessions.body);

    // A second pair into the same file is refused rather than losing the first key.
    const again = await runCli(
      ['device', 'pair', '--server', t.baseUrl, '--file', file],
      `${email}\n${GOOD_PASSWORD}\n`,
      env,
    );
    assertFailed(again, /already holds "Ann's laptop"/);
    assert.equal((await listDevices(token)).length, 1);
  });

  test('pair: a wrong password fails with the server message, and no file is written', async () => {
    const { email, token } = await account();
    const file = newFilePath();
    const result = await runCli(
      ['device', 'pair', '--server', t.baseUrl, '--file', file],
      `${email}\nnot the password at all\n`,
      env,
    );
    assertFailed(result, /Sign-in failed: The email or password is not correct\. \(INVALID_CREDENTIALS\)/);
    assert.equal(result.code, 77);
    assert.ok(!existsSync(file));
    assert.deepEqual(await listDevices(token), []);
  });

  test('pair: an account with two-step verification on asks for a channel and the code it sent', async () => {
    const { email, password, phone, token } = await enrolTwoStep(t);
    const file = newFilePath();
    const pair = startCli(['device', 'pair', '--server', t.baseUrl, '--name', 'Two-step box', '--file', file], env);
    try {
      pair.write(`${email}\n${password}\n\n`); // an empty choice is the first channel
      await pair.nextErrorLine((l) => l.includes('Code sent: text message to'), 'the code to be sent');
      assert.ok(
        pair.stderrLines.some((l) => /^ {2}1\. text message to •••• \d\d$/.test(l)),
        pair.stderrLines.join('\n'),
      );
      pair.write(`${await smsCode(t, phone)}\n`);
      const result = await pair.done();
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /Paired "Two-step box"/);
      assert.ok(!result.stderr.includes('not support'), result.stderr);
    } finally {
      pair.child.kill();
    }
    const saved = JSON.parse(readFileSync(file, 'utf8'));
    assert.deepEqual(
      (await listDevices(token)).map((d) => [d.id, d.name, d.trusted]),
      [[saved.deviceId, 'Two-step box', false]],
    );
    // The pairing session was signed out: only the enrolment session remains.
    assert.equal(await sessionCount(token), 1);
  });

  test('pair: a wrong code can be typed again while attempts are left; input ending at the code fails', async () => {
    const { email, password, phone, token } = await enrolTwoStep(t);
    const file = newFilePath();
    const pair = startCli(['device', 'pair', '--server', t.baseUrl, '--file', file], env);
    try {
      pair.write(`${email}\n${password}\n1\n`);
      await pair.nextErrorLine((l) => l.startsWith('Code sent: '), 'the code to be sent');
      const code = await smsCode(t, phone);
      pair.write(`${otherCode(code)}\n`);
      await pair.nextErrorLine((l) => /That code is not right; \d+ attempts? left\./.test(l), 'the retry notice');
      pair.write(`${code}\n`);
      const result = await pair.done();
      assert.equal(result.code, 0, result.stderr);
    } finally {
      pair.child.kill();
    }
    assert.equal((await listDevices(token)).length, 1);
    assert.equal(await sessionCount(token), 1);

    // Without a code the pairing stops before anything is registered or written.
    const other = newFilePath();
    const noCode = await runCli(
      ['device', 'pair', '--server', t.baseUrl, '--file', other],
      `${email}\n${password}\n\n`,
      env,
    );
    assertFailed(noCode, /No answer for "Code:"/);
    assert.equal(noCode.code, 66);
    assert.ok(!existsSync(other));
    assert.equal((await listDevices(token)).length, 1);
    assert.equal(await sessionCount(token), 1);
  });

  test('pair: an unreachable server, a bad address or missing answers fail clearly', async () => {
    const file = newFilePath();
    const down = await runCli(
      ['device', 'pair', '--server', `http://127.0.0.1:${await freePort()}`, '--file', file],
      'ann@example.com\npassword\n',
      env,
    );
    assertFailed(down, /Cannot reach the server at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
    assert.equal(down.code, 69);
    const badUrl = await runCli(['device', 'pair', '--server', 'ftp://x', '--file', file], '', env);
    assertFailed(badUrl, /must start with https:\/\//);
    const noInput = await runCli(['device', 'pair', '--server', t.baseUrl, '--file', file], 'ann@example.com\n', env);
    assertFailed(noInput, /No answer for "Password:"/);
    const noServer = await runCli(['device', 'pair', '--file', file], '', env);
    assertFailed(noServer, /--server <url>/);
    assert.ok(!existsSync(file));
  });

  test('run --json: a code pushed by a verification is printed and completes it; n denies the next', async () => {
    const { token, file, deviceId } = await pairWithCli();
    const run = startCli(['device', 'run', '--json', '--file', file], env);
    try {
      const ready = await run.nextEvent((e) => e.event === 'ready', 'ready');
      assert.deepEqual(ready.device, { id: deviceId, name: 'CLI laptop', trusted: false });

      const first = await startVerification(token, deviceId);
      const push = await run.nextEvent((e) => e.event === 'code' && e.challengeId === first, 'the first code');
      assert.match(String(push.code), /^\d{6}$/);
      assert.equal(push.purpose, 'verify_device');
      const context = push.context as Record<string, string>;
      assert.equal(context.ip, '127.0.0.1');
      assert.equal(context.place, 'local network');
      const done = await answer(token, first, String(push.code));
      assert.equal(done.statusCode, 200, done.body);
      assert.equal(done.json().device.trusted, true);
      // The device hears that its code was used and that it is trusted now.
      await run.nextEvent((e) => e.event === 'cancelled' && e.challengeId === first && e.reason === 'answered', 'used');
      await run.nextEvent((e) => e.event === 'trusted', 'trusted');

      const second = await startVerification(token, deviceId);
      const secondPush = await run.nextEvent((e) => e.event === 'code' && e.challengeId === second, 'the second code');
      run.write('n\n');
      await run.nextEvent((e) => e.event === 'deny_sent' && e.challengeId === second, 'the deny to be sent');
      await run.nextEvent((e) => e.event === 'denied' && e.challengeId === second, 'denied');
      const refused = await answer(token, second, String(secondPush.code));
      assert.equal(refused.json().error.code, 'CHALLENGE_CLOSED');

      // With nothing open any more, n says so instead of sending anything.
      await run.nextEvent((e) => e.event === 'cancelled' && e.challengeId === second, 'cancelled');
      run.write('n\n');
      await run.nextEvent((e) => e.event === 'notice' && e.message === 'nothing to deny', 'nothing to deny');
      run.write('q\n');
      const result = await run.done();
      assert.equal(result.code, 0, result.stderr);
    } finally {
      run.child.kill();
    }
  });

  test('run --json: with number matching, typing the right number then a approves the sign-in', async () => {
    const { email, password, phone, token } = await enrolTwoStep(t);
    const file = newFilePath();
    const pair = startCli(['device', 'pair', '--server', t.baseUrl, '--name', 'Approver', '--file', file], env);
    try {
      pair.write(`${email}\n${password}\n\n`);
      await pair.nextErrorLine((l) => l.includes('Code sent: text message to'), 'the code to be sent');
      pair.write(`${await smsCode(t, phone)}\n`);
      assert.equal((await pair.done()).code, 0);
    } finally {
      pair.child.kill();
    }
    const { deviceId } = JSON.parse(readFileSync(file, 'utf8'));
    const run = startCli(['device', 'run', '--json', '--file', file], env);
    try {
      await run.nextEvent((e) => e.event === 'ready', 'ready');
      const verification = await startVerification(token, deviceId);
      const push = await run.nextEvent((e) => e.event === 'code' && e.challengeId === verification, 'the code');
      assert.equal((await answer(token, verification, String(push.code))).statusCode, 200);
      await run.nextEvent((e) => e.event === 'trusted', 'trusted');
      const required = await t.request({
        method: 'PUT',
        url: '/api/v1/two-step/number-matching',
        headers: bearer(token),
        payload: { required: true },
      });
      assert.equal(required.statusCode, 200, required.body);

      const challenge = await passwordStep(t, email, password);
      const sent = await sendCode(t, challenge.id, 'device');
      const number = sent.json().matchNumber as number;
      // Nothing to approve before the number is picked.
      await run.nextEvent((e) => e.event === 'match' && e.challengeId === challenge.id, 'the match');
      run.write('a\n');
      await run.nextEvent((e) => e.event === 'notice' && e.message === 'nothing to approve', 'nothing to approve');
      run.write(`${number}\n`);
      const code = await run.nextEvent((e) => e.event === 'code' && e.challengeId === challenge.id, 'the code');
      assert.equal(code.matched, number);
      run.write('a\n');
      await run.nextEvent((e) => e.event === 'approve_sent' && e.challengeId === challenge.id, 'the approval sent');
      await run.nextEvent((e) => e.event === 'approved' && e.challengeId === challenge.id, 'approved');
      const signedIn = await t.request({
        method: 'POST',
        url: `/api/v1/challenges/${challenge.id}/verify`,
        payload: { approved: true },
      });
      assert.equal(signedIn.statusCode, 200, signedIn.body);
      assert.equal(signedIn.json().status, 'signed_in');
      await run.nextEvent(
        (e) => e.event === 'cancelled' && e.challengeId === challenge.id && e.reason === 'answered',
        'the request went through',
      );
      run.write('q\n');
      assert.equal((await run.done()).code, 0);
    } finally {
      run.child.kill();
    }
  });

  test('run: the readable block shows the code, what it is for, browser, address, place and time', async () => {
    const { token, file, deviceId } = await pairWithCli('Reader');
    const run = startCli(['device', 'run', '--file', file], env);
    try {
      await run.nextLine((l) => l.startsWith('Connected to '), 'the connected line');
      assert.ok(run.stdoutLines.some((l) => l.includes('"Reader" (not trusted yet')));
      const challengeId = await startVerification(token, deviceId);
      const codeLine = await run.nextLine((l) => /^\s+code\s+\d{3} \d{3}$/.test(l), 'the code line');
      await run.nextLine((l) => l.includes("This wasn't me"), 'the end of the block');
      const block = run.stdoutLines.slice(run.stdoutLines.indexOf(codeLine)).join('\n');
      assert.match(block, /to\s+make this device a trusted device/);
      assert.match(block, /from\s+\S/);
      assert.match(block, /at\s+127\.0\.0\.1 \(local network\)/);
      assert.match(block, /when\s+\S/);
      assert.match(block, /expires\s+.*\(in about \d+ min\)/);
      const code = codeLine.replace(/\D/g, '');
      assert.equal((await answer(token, challengeId, code)).statusCode, 200);
      await run.nextLine((l) => l === `Code ${code} was used: that request went through.`, 'the used notice');
      await run.nextLine((l) => l.includes('now a trusted device'), 'the trusted notice');
      run.write('q\n');
      assert.equal((await run.done()).code, 0);
    } finally {
      run.child.kill();
    }
  });

  test('status reports the device and whether the server accepts and trusts it', async () => {
    const { token, file, deviceId } = await pairWithCli('Status box');
    const before = await runCli(['device', 'status', '--file', file], '', env);
    assert.equal(before.code, 0, before.stderr);
    assert.match(before.stdout, new RegExp(`^Server:\\s+${t.baseUrl}$`, 'm'));
    assert.match(before.stdout, new RegExp(`^Device:\\s+${deviceId}$`, 'm'));
    assert.match(before.stdout, /^Name:\s+Status box$/m);
    assert.ok(before.stdout.includes(file));
    assert.match(before.stdout, /^Accepted: yes$/m);
    assert.match(before.stdout, /^Trusted:\s+no/m);

    // Trust it through a running app, then ask again.
    const run = startCli(['device', 'run', '--json', '--file', file], env);
    try {
      await run.nextEvent((e) => e.event === 'ready', 'ready');
      const challengeId = await startVerification(token, deviceId);
      const push = await run.nextEvent((e) => e.event === 'code', 'the code');
      assert.equal((await answer(token, challengeId, String(push.code))).statusCode, 200);
      run.write('q\n');
      await run.done();
    } finally {
      run.child.kill();
    }
    const trusted = await runCli(['device', 'status', '--json', '--file', file], '', env);
    assert.equal(trusted.code, 0, trusted.stderr);
    assert.deepEqual(
      { ...JSON.parse(trusted.stdout), file: undefined },
      {
        server: t.baseUrl,
        deviceId,
        name: 'Status box',
        file: undefined,
        accepted: true,
        trusted: true,
      },
    );
  });

  test('status without a file, or against a server that is down, says so with a non-zero exit', async () => {
    const missing = await runCli(['device', 'status', '--file', join(home, 'nothing-here.json')], '', env);
    assertFailed(missing, /No paired device in .*nothing-here\.json/);
    const { file } = await pairWithCli();
    const saved = JSON.parse(readFileSync(file, 'utf8'));
    writeFileSync(file, JSON.stringify({ ...saved, server: `http://127.0.0.1:${await freePort()}` }), { mode: 0o600 });
    const down = await runCli(['device', 'status', '--file', file], '', env);
    assert.equal(down.code, 69);
    assert.match(down.stdout, /^Accepted: unknown: cannot reach/m);
  });

  test('forget removes the device from the account and deletes the file', async () => {
    const { token, file } = await pairWithCli();
    assert.equal((await listDevices(token)).length, 1);
    const result = await runCli(['device', 'forget', '--file', file], '', env);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /Removed "CLI laptop" from your account/);
    assert.deepEqual(await listDevices(token), []);
    assert.ok(!existsSync(file));
  });

  test('forget keeps the file when the server is unreachable, unless --force', async () => {
    const { token, file } = await pairWithCli();
    const saved = JSON.parse(readFileSync(file, 'utf8'));
    writeFileSync(file, JSON.stringify({ ...saved, server: `http://127.0.0.1:${await freePort()}` }), { mode: 0o600 });
    const kept = await runCli(['device', 'forget', '--file', file], '', env);
    assertFailed(kept, /Cannot reach the server[\s\S]*Kept .*--force/);
    assert.ok(existsSync(file));
    const forced = await runCli(['device', 'forget', '--force', '--file', file], '', env);
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stderr, /Deleted .* anyway/);
    assert.ok(!existsSync(file));
    assert.equal((await listDevices(token)).length, 1, 'the server was never told');
  });

  test('removing the device on the account stops a running app with the removal message', async () => {
    const { token, file, deviceId } = await pairWithCli();
    const run = startCli(['device', 'run', '--file', file], env);
    try {
      await run.nextLine((l) => l.startsWith('Connected to '), 'the connected line');
      const removed = await t.request({ method: 'DELETE', url: `/api/v1/devices/${deviceId}`, headers: bearer(token) });
      assert.equal(removed.statusCode, 204);
      const result = await run.done();
      assert.equal(result.code, 77);
      assert.match(result.stderr, /This device was removed from your account/);

      // Afterwards the file opens nothing: status says so, and forget just deletes it.
      const status = await runCli(['device', 'status', '--file', file], '', env);
      assert.equal(status.code, 77);
      assert.match(status.stdout, /^Accepted: no/m);
      const forget = await runCli(['device', 'forget', '--file', file], '', env);
      assert.equal(forget.code, 0, forget.stderr);
      assert.match(forget.stdout, /already removed/);
      assert.ok(!existsSync(file));
    } finally {
      run.child.kill();
    }
  });
});
