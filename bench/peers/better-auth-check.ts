// Smoke check of the Better Auth peer: start it, seed 3 users, one full sign-in with the OTP, session
// checks without and with the cookie cache, a wrong password, a wrong code and a bogus session
// refused, a signed-out session refused without the cache and still served with it; then a
// rough single-client latency per operation (informative only, one client, a few rounds).
//   npx node bench/peers/better-auth-check.ts [rounds]    (DATABASE_URL, default the local twostep_peer_dev)
import { strict as assert } from 'node:assert';
import { performance } from 'node:perf_hooks';
import { startBetterAuth } from './better-auth.ts';

const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1/twostep_peer_dev';
const rounds = Number(process.argv[2] ?? '20');
const password = 'correct horse battery staple';

const peer = await startBetterAuth({ databaseUrl, port: 0 });
try {
  const emails = await peer.seed(3, password);
  assert.equal(emails.length, 3);
  assert.equal(new Set(emails).size, 3);

  const pending = await peer.signIn(emails[0], password);
  const otp = await pending.otpFor();
  assert.match(otp, /^\d{6}$/);
  const session = await peer.verifyOtp(pending.cookie, otp);
  await peer.sessionCheck(session);
  await peer.sessionCheck(session, { cookieCache: false });
  await peer.sessionCheck(session, { cookieCache: true });
  await peer.sessionCheck(session, { cookieCache: true });

  await assert.rejects(peer.signIn(emails[1], 'not the password'), /HTTP 401/);
  const again = await peer.signIn(emails[1], password);
  await assert.rejects(
    peer.verifyOtp(again.cookie, (await again.otpFor()) === '000000' ? '111111' : '000000'),
    /HTTP 401/,
  );
  await assert.rejects(peer.sessionCheck('better-auth.session_token=bogus'), /no valid session/);
  await assert.rejects(peer.sessionCheck('better-auth.session_token=bogus', { cookieCache: true }), /no valid session/);

  // Signed out (its session row deleted): the check without the cookie cache fails at once; the cached
  // one still answers from the cookie until it expires. That is what the cookie cache trades away.
  const signOut = await fetch(`${peer.baseUrl}/api/auth/sign-out`, {
    method: 'POST',
    headers: { cookie: session, origin: peer.baseUrl, 'content-type': 'application/json' },
    body: '{}',
  });
  assert.equal(signOut.status, 200);
  await assert.rejects(peer.sessionCheck(session), /no valid session/);
  await peer.sessionCheck(session, { cookieCache: true });
  console.log(`OK: ${peer.baseUrl}${peer.sessionCheckPath}`);

  const times: Record<string, number[]> = { signIn: [], otpFor: [], verifyOtp: [], check: [], cachedCheck: [] };
  const time = async <T>(name: string, run: () => Promise<T>): Promise<T> => {
    const start = performance.now();
    const result = await run();
    times[name].push(performance.now() - start);
    return result;
  };
  for (let i = 0; i < rounds; i++) {
    const started = await time('signIn', () => peer.signIn(emails[i % 3], password));
    const code = await time('otpFor', () => started.otpFor());
    const cookie = await time('verifyOtp', () => peer.verifyOtp(started.cookie, code));
    for (let j = 0; j < 10; j++) {
      await time('check', () => peer.sessionCheck(cookie));
      await time('cachedCheck', () => peer.sessionCheck(cookie, { cookieCache: true }));
    }
  }
  for (const [name, values] of Object.entries(times)) {
    values.sort((a, b) => a - b);
    const median = values[Math.floor(values.length / 2)];
    console.log(
      `${name.padEnd(12)} p50 ${median.toFixed(2)} ms  min ${values[0].toFixed(2)} ms  (${values.length} calls)`,
    );
  }
} finally {
  await peer.close();
}
