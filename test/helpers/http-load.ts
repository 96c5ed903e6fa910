// Mixed traffic against a running server over real HTTP, as many clients would send it: sign-ups
// confirmed by email, two-step enrolments (a phone by SMS, a confirmed recovery key), sign-ins with
// texted codes and password resets, with codes and links read from the development outbox. It
// remembers what the server acknowledged, so a crash test can check afterwards that nothing it
// answered for was lost, and counts every answer it did not expect.
import { randomBytes, randomInt } from 'node:crypto';
import { GOOD_PASSWORD, uniqueEmail } from './app.ts';

const REQUEST_TIMEOUT_MS = 15_000;

export interface Answer {
  status: number;
  body: Record<string, unknown>;
}

export interface LoadAccount {
  email: string;
  /** The password the server last acknowledged. */
  password: string;
  /** A new password sent in a reset that got no answer (the server may or may not have applied it). */
  unconfirmedPassword?: string;
  phone?: string;
  twoStep: boolean;
  /** The server answered the confirmation link with 200. */
  confirmed: boolean;
  /** A journey on this account is running. */
  busy: boolean;
}

/** A code the server accepted, and what it needs to be presented again. */
export interface UsedCode {
  challengeId: string;
  code: string;
  token?: string;
}

export interface CallOptions {
  token?: string;
  body?: unknown;
  /** The client address the proxy reports (LOAD_SETTINGS trusts it): many users, not one address. */
  from?: string;
}

export type Operation = 'signup' | 'enrol' | 'signin' | 'reset';

export interface LoadStats {
  operations: Record<Operation, number>;
  /** Answers that were not what the journey expects, and transport failures, in a few words each. */
  errors: string[];
  /** Request latencies in milliseconds. */
  latencies: number[];
}

export class Load {
  readonly accounts: LoadAccount[] = [];
  readonly usedCodes: UsedCode[] = [];
  readonly stats: LoadStats = { operations: { signup: 0, enrol: 0, signin: 0, reset: 0 }, errors: [], latencies: [] };
  baseUrl: string;

  constructor(baseUrl: string) {
    this.baseUrl = baseUrl;
  }

  async call(method: string, path: string, options: CallOptions = {}): Promise<Answer> {
    const started = performance.now();
    const response = await fetch(new URL(path, this.baseUrl), {
      method,
      headers: {
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        ...(options.from ? { 'x-forwarded-for': options.from } : {}),
      },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await response.text();
    this.stats.latencies.push(performance.now() - started);
    return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  }

  /** Calls and insists on the status; anything else ends the journey with an error naming the step. */
  async expect(step: string, status: number, method: string, path: string, options: CallOptions = {}) {
    const answer = await this.call(method, path, options);
    if (answer.status !== status)
      throw new Error(`${step}: ${answer.status} ${JSON.stringify((answer.body as { error?: unknown }).error ?? '')}`);
    return answer.body;
  }

  /** The newest outbox message to `to` that `pick` finds something in; the outbox is written just after the answer. */
  async fromOutbox(to: string, pick: (m: { links: string[]; code?: string; channel: string }) => string | undefined) {
    for (let i = 0; i < 50; i += 1) {
      const messages = (await this.call('GET', `/dev/outbox.json?to=${encodeURIComponent(to)}`)).body as unknown as {
        links: string[];
        code?: string;
        channel: string;
      }[];
      for (const message of messages) {
        const found = pick(message);
        if (found) return found;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`nothing in the outbox for ${to}`);
  }

  async signUp(): Promise<void> {
    const account: LoadAccount = {
      email: uniqueEmail('load'),
      password: GOOD_PASSWORD,
      twoStep: false,
      confirmed: false,
      busy: true,
    };
    this.accounts.push(account);
    try {
      await this.#signUpAndConfirm(account);
    } finally {
      account.busy = false;
    }
  }

  async #signUpAndConfirm(account: LoadAccount): Promise<void> {
    await this.expect('sign-up', 202, 'POST', '/api/v1/signup', {
      body: {
        email: account.email,
        password: account.password,
        name: 'Ann Example',
        birthDate: '1990-04-01',
        country: 'NL',
      },
    });
    const link = await this.fromOutbox(account.email, (m) => m.links.find((l) => l.includes('/verify-email?token=')));
    await this.expect('confirm email', 200, 'POST', '/api/v1/email/verify', {
      body: { token: new URL(link).searchParams.get('token') },
    });
    account.confirmed = true;
  }

  async #smsCode(phone: string, after: Set<string>): Promise<string> {
    return this.fromOutbox(phone, (m) => (m.channel === 'sms' && m.code && !after.has(m.code) ? m.code : undefined));
  }

  async #knownCodes(phone: string): Promise<Set<string>> {
    const messages = (await this.call('GET', `/dev/outbox.json?to=${encodeURIComponent(phone)}`)).body as unknown as {
      code?: string;
    }[];
    return new Set(messages.flatMap((m) => (m.code ? [m.code] : [])));
  }

  async #knownLinks(email: string, pick: (m: { links: string[] }) => string | undefined): Promise<Set<string>> {
    const messages = (await this.call('GET', `/dev/outbox.json?to=${encodeURIComponent(email)}`)).body as unknown as {
      links: string[];
    }[];
    return new Set(messages.flatMap((m) => pick(m) ?? []));
  }

  async enrol(account: LoadAccount): Promise<void> {
    const signedIn = await this.expect('enrol: sign in', 200, 'POST', '/api/v1/signin', {
      body: { email: account.email, password: account.password },
    });
    const token = String(signedIn.token);
    const phone = `+3161${String(randomInt(1_000_000, 9_999_999))}`;
    const added = await this.expect('enrol: add phone', 202, 'POST', '/api/v1/phones', {
      token,
      body: { number: phone },
    });
    const challengeId = String((added.challenge as { id: string }).id);
    const code = await this.#smsCode(phone, new Set());
    await this.expect('enrol: verify phone', 200, 'POST', `/api/v1/challenges/${challengeId}/verify`, {
      token,
      body: { code },
    });
    account.phone = phone;
    this.usedCodes.push({ challengeId, code, token });
    const created = await this.expect('enrol: recovery key', 201, 'POST', '/api/v1/two-step/recovery-key', { token });
    await this.expect('enrol: confirm key', 200, 'POST', '/api/v1/two-step/recovery-key/confirm', {
      token,
      body: { recoveryKey: created.recoveryKey },
    });
    await this.expect('enrol: enable', 200, 'POST', '/api/v1/two-step/enable', { token, body: { acknowledged: true } });
    account.twoStep = true;
  }

  async signIn(account: LoadAccount): Promise<void> {
    const first = await this.expect('sign in', 200, 'POST', '/api/v1/signin', {
      body: { email: account.email, password: account.password },
    });
    if (!account.twoStep) {
      if (first.status !== 'signed_in') throw new Error(`sign in: ${String(first.status)} without two-step`);
      return;
    }
    const challenge = first.challenge as { id: string; channels: { id: string; type: string }[] };
    const sms = challenge.channels.find((c) => c.type === 'sms');
    if (!sms || !account.phone) throw new Error('sign in: no SMS channel on a two-step account');
    const known = await this.#knownCodes(account.phone);
    await this.expect('sign in: send code', 202, 'POST', `/api/v1/challenges/${challenge.id}/send`, {
      body: { channel: sms.id },
    });
    const code = await this.#smsCode(account.phone, known);
    const done = await this.expect('sign in: code', 200, 'POST', `/api/v1/challenges/${challenge.id}/verify`, {
      body: { code },
    });
    if (typeof done.token !== 'string') throw new Error('sign in: no token after the code');
    this.usedCodes.push({ challengeId: challenge.id, code });
  }

  async reset(account: LoadAccount): Promise<void> {
    // Resets are limited per client address per hour: each comes from its own user's address.
    const from = `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`;
    // The email goes out after the 202: the newest reset link in the outbox may still be an earlier
    // reset's (used) one for a while, so only a link that was not there before counts.
    const resetLink = (m: { links: string[] }): string | undefined =>
      m.links.find((l) => l.includes('/reset-password?token='));
    const earlier = await this.#knownLinks(account.email, resetLink);
    await this.expect('forgot password', 202, 'POST', '/api/v1/password/forgot', {
      body: { email: account.email },
      from,
    });
    const link = await this.fromOutbox(account.email, (m) => {
      const found = resetLink(m);
      return found && !earlier.has(found) ? found : undefined;
    });
    const newPassword = `${GOOD_PASSWORD} ${randomBytes(3).toString('hex')}`;
    account.unconfirmedPassword = newPassword;
    await this.expect('reset password', 200, 'POST', '/api/v1/password/reset', {
      body: { token: new URL(link).searchParams.get('token'), newPassword },
    });
    account.password = newPassword;
    delete account.unconfirmedPassword;
  }

  /** One journey, chosen by what the accounts allow: about a third sign-ups, the rest on confirmed accounts. */
  async step(): Promise<void> {
    const idle = this.accounts.filter((a) => a.confirmed && !a.busy);
    const roll = Math.random();
    let operation: Operation = 'signup';
    let account: LoadAccount | undefined;
    if (idle.length > 0 && roll > 0.3) {
      account = idle[randomInt(idle.length)] as LoadAccount;
      const plain = !account.twoStep;
      operation = plain && roll > 0.85 ? 'reset' : plain && roll > 0.55 ? 'enrol' : 'signin';
      account.busy = true;
    }
    try {
      if (operation === 'signup') await this.signUp();
      else if (operation === 'enrol') await this.enrol(account as LoadAccount);
      else if (operation === 'reset') await this.reset(account as LoadAccount);
      else await this.signIn(account as LoadAccount);
      this.stats.operations[operation] += 1;
    } catch (error) {
      this.stats.errors.push(`${operation}: ${(error as Error).message}`);
      throw error;
    } finally {
      if (account) account.busy = false;
    }
  }
}

/** Nearest-rank percentile of the latencies, in milliseconds. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}
