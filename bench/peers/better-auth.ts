// The Better Auth side of the benchmark (issue 10, point 5): starts better-auth-server.ts in a child
// process (Node 24, so the load generator's event loop is not the server's) and drives it over HTTP
// the way a browser would, one operation per call. See bench/peers/README.md.
import { fork } from 'node:child_process';
import { Agent, request } from 'node:http';
import {
  CACHED_BASE_PATH,
  DEFAULT_BASE_PATH,
  type FromChild,
  SESSION_COOKIE,
  SESSION_DATA_COOKIE,
  type ToChild,
  TWO_FACTOR_COOKIE,
} from './better-auth-protocol.ts';

export interface BetterAuthPeer {
  baseUrl: string;
  /** Creates `count` verified users with this password and two-factor (OTP) enabled; returns their emails. Fast: bulk where possible. */
  seed(count: number, password: string): Promise<string[]>;
  /** Email + password sign-in through HTTP; two-factor is required, so no session yet: the cookie/state to continue, and how to read the OTP that was "sent". */
  signIn(email: string, password: string): Promise<{ cookie: string; otpFor(): Promise<string> }>;
  /** Sends/verifies the OTP through HTTP; returns the session cookie. */
  verifyOtp(cookie: string, otp: string): Promise<string>;
  sessionCheckPath: string;
  /** GET the session through HTTP (its get-session endpoint); cookieCache selects Better Auth's cookie cache on or off. Throws unless the session is valid. */
  sessionCheck(sessionCookie: string, options?: { cookieCache: boolean }): Promise<void>;
  close(): Promise<void>;
}

interface Reply {
  status: number;
  setCookies: string[];
  body: string;
}

const OTP_WAIT_MS = 5000;

export async function startBetterAuth(options: { databaseUrl: string; port: number }): Promise<BetterAuthPeer> {
  const child = fork(new URL('./better-auth-server.ts', import.meta.url), {
    execPath: process.execPath,
    execArgv: ['--disable-warning=ExperimentalWarning'],
    // The child inherits UV_THREADPOOL_SIZE, so both servers hash on the same number of threads.
    env: { ...process.env, BENCH_PEER_DATABASE_URL: options.databaseUrl, BENCH_PEER_PORT: String(options.port) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const otps = new Map<string, string>();
  const otpWaiters = new Map<string, (otp: string) => void>();
  const seeds = new Map<number, { resolve(emails: string[]): void; reject(error: Error): void }>();
  let nextSeed = 0;

  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code) => {
      for (const pending of seeds.values()) pending.reject(new Error(`the Better Auth peer exited (${code})`));
      seeds.clear();
      resolve();
    }),
  );
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the Better Auth peer exited (${code}) before it was ready`)));
    child.on('message', (message: FromChild) => {
      if (message.type === 'ready') resolve(message.port);
      else if (message.type === 'otp') {
        const waiter = otpWaiters.get(message.key);
        if (waiter) {
          otpWaiters.delete(message.key);
          waiter(message.otp);
        } else otps.set(message.key, message.otp);
      } else {
        const pending = seeds.get(message.id);
        seeds.delete(message.id);
        if (message.type === 'seeded') pending?.resolve(message.emails);
        else pending?.reject(new Error(message.message));
      }
    });
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  const agent = new Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });
  // The cookie cache lives in the browser: the session_data cookie the cached get-session last set, per session.
  const sessionData = new Map<string, string>();

  function call(method: 'GET' | 'POST', path: string, cookie: string, body?: unknown): Promise<Reply> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = { origin: baseUrl };
    if (cookie) headers.cookie = cookie;
    if (payload !== undefined) headers['content-type'] = 'application/json';
    return new Promise((resolve, reject) => {
      const req = request(`${baseUrl}${path}`, { method, agent, headers }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, setCookies: res.headers['set-cookie'] ?? [], body: text }),
        );
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(payload);
    });
  }

  function expect(reply: Reply, what: string): void {
    if (reply.status !== 200) throw new Error(`Better Auth ${what}: HTTP ${reply.status} ${reply.body.slice(0, 200)}`);
  }

  function otpFor(key: string): Promise<string> {
    const otp = otps.get(key);
    if (otp !== undefined) {
      otps.delete(key);
      return Promise.resolve(otp);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        otpWaiters.delete(key);
        reject(new Error('Better Auth sent no OTP for this sign-in'));
      }, OTP_WAIT_MS);
      otpWaiters.set(key, (value) => {
        clearTimeout(timer);
        resolve(value);
      });
    });
  }

  return {
    baseUrl,
    sessionCheckPath: `${DEFAULT_BASE_PATH}/get-session`,

    seed(count, password) {
      const id = nextSeed++;
      return new Promise((resolve, reject) => {
        seeds.set(id, { resolve, reject });
        child.send({ type: 'seed', id, count, password } satisfies ToChild);
      });
    },

    // The password step, then the "send me a code" step a Better Auth client makes when the answer is
    // twoFactorRedirect (the plugin does not send one by itself). otpFor() reads the code the child's
    // sendOTP passed up over IPC for this sign-in's two-factor cookie.
    async signIn(email, password) {
      const signedIn = await call('POST', `${DEFAULT_BASE_PATH}/sign-in/email`, '', { email, password });
      expect(signedIn, 'sign-in');
      if (!(JSON.parse(signedIn.body) as { twoFactorRedirect?: boolean }).twoFactorRedirect) {
        throw new Error('Better Auth signed in without asking for the second step');
      }
      const key = cookieFrom(signedIn.setCookies, TWO_FACTOR_COOKIE);
      if (!key) throw new Error('Better Auth set no two-factor cookie');
      const cookie = `${TWO_FACTOR_COOKIE}=${key}`;
      expect(await call('POST', `${DEFAULT_BASE_PATH}/two-factor/send-otp`, cookie, {}), 'send-otp');
      return { cookie, otpFor: () => otpFor(key) };
    },

    async verifyOtp(cookie, otp) {
      const verified = await call('POST', `${DEFAULT_BASE_PATH}/two-factor/verify-otp`, cookie, { code: otp });
      expect(verified, 'verify-otp');
      const token = cookieFrom(verified.setCookies, SESSION_COOKIE);
      if (!token) throw new Error('Better Auth set no session cookie');
      return `${SESSION_COOKIE}=${token}`;
    },

    async sessionCheck(sessionCookie, checkOptions) {
      const cached = checkOptions?.cookieCache === true;
      const data = cached ? sessionData.get(sessionCookie) : undefined;
      const cookie = data ? `${sessionCookie}; ${SESSION_DATA_COOKIE}=${data}` : sessionCookie;
      const reply = await call('GET', `${cached ? CACHED_BASE_PATH : DEFAULT_BASE_PATH}/get-session`, cookie);
      expect(reply, 'get-session');
      if (cached) {
        const fresh = cookieFrom(reply.setCookies, SESSION_DATA_COOKIE);
        if (fresh) sessionData.set(sessionCookie, fresh);
        else if (fresh === '') sessionData.delete(sessionCookie);
      }
      // An unknown or revoked session is 200 with a null body.
      const session = JSON.parse(reply.body) as { session?: { id?: string } } | null;
      if (!session?.session?.id) throw new Error('Better Auth: no valid session');
    },

    async close() {
      agent.destroy();
      if (child.connected) child.send({ type: 'close' } satisfies ToChild);
      await exited;
    },
  };
}

/** The value a Set-Cookie list gives this cookie: undefined if not set, '' if it is being deleted. */
function cookieFrom(setCookies: string[], name: string): string | undefined {
  let value: string | undefined;
  for (const line of setCookies) {
    const [pair, ...attributes] = line.split(';');
    const at = pair.indexOf('=');
    if (pair.slice(0, at).trim() !== name) continue;
    const deleted = attributes.some((attribute) => /^\s*max-age=0\s*$/i.test(attribute));
    value = deleted ? '' : pair.slice(at + 1);
  }
  return value;
}
