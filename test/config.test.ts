// The typed configuration: defaults, one clear message per bad value, production refuses development defaults.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, describeConfig, loadConfig } from '../src/config.ts';

function problems(settings: Record<string, string>): string[] {
  try {
    loadConfig(settings);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('configuration', () => {
  test('defaults give a development server on port 3000 with the SPEC §5 policy', () => {
    const config = loadConfig({});
    assert.equal(config.env, 'development');
    assert.equal(config.port, 3000);
    assert.equal(config.publicUrl, 'http://localhost:3000');
    assert.equal(config.databaseUrl, undefined);
    assert.equal(config.secretSource, 'generated');
    assert.deepEqual(
      [
        config.policy.passwordMinLength,
        config.policy.passwordMaxLength,
        config.policy.sessionIdleMinutes,
        config.policy.sessionAbsoluteHours,
        config.policy.argon2MemoryKib,
        config.policy.argon2Iterations,
      ],
      [8, 256, 60, 24, 19456, 2],
    );
  });

  test('PUBLIC_URL follows PORT unless set, and keeps only the origin', () => {
    assert.equal(loadConfig({ PORT: '8080' }).publicUrl, 'http://localhost:8080');
    assert.equal(loadConfig({ PUBLIC_URL: 'https://id.example.org/some/path' }).publicUrl, 'https://id.example.org');
  });

  test('every bad value is reported, each with its own message', () => {
    const found = problems({
      PORT: 'eighty',
      NODE_ENV: 'staging',
      SESSION_IDLE_MINUTES: '600',
      DATABASE_URL: 'mysql://x',
      TWOSTEP_SECRET: 'short',
      TRUST_PROXY: 'maybe',
      ALARM_EMAIL: 'operators',
      ALARM_SMS_PER_HOUR: '-1',
    });
    assert.equal(found.length, 8, found.join('\n'));
    assert.ok(found.some((p) => p.startsWith('PORT=') && p.includes('whole number')));
    assert.ok(found.some((p) => p.startsWith('NODE_ENV=') && p.includes('one of')));
    assert.ok(found.some((p) => p.startsWith('SESSION_IDLE_MINUTES=') && p.includes('between 1 and 60')));
    assert.ok(found.some((p) => p.startsWith('DATABASE_URL')));
    assert.ok(
      found.some((p) => p.startsWith('TWOSTEP_SECRET') && !p.includes('short')),
      'a secret is never echoed',
    );
    assert.ok(found.some((p) => p.startsWith('TRUST_PROXY=')));
    assert.ok(found.some((p) => p.startsWith('ALARM_EMAIL') && p.includes('email address')));
    assert.ok(found.some((p) => p.startsWith('ALARM_SMS_PER_HOUR=') && p.includes('between 0 and')));
  });

  test('every previous secret has at least 32 characters, and none is echoed', () => {
    const found = problems({ TWOSTEP_SECRET_PREVIOUS: `${'p'.repeat(40)}, shortprev` });
    assert.deepEqual(found, ['TWOSTEP_SECRET_PREVIOUS: every secret must be at least 32 characters']);
    assert.equal(problems({ TWOSTEP_SECRET_PREVIOUS: `${'p'.repeat(40)},${'q'.repeat(32)}` }).length, 0);
  });

  test('argon2 cost and password length cannot be set below the standards', () => {
    assert.equal(problems({ ARGON2_MEMORY_KIB: '4096' }).length, 1);
    assert.equal(problems({ ARGON2_ITERATIONS: '1' }).length, 1);
    assert.equal(problems({ PASSWORD_MIN_LENGTH: '6' }).length, 1);
    assert.equal(loadConfig({ PASSWORD_MIN_LENGTH: '15' }).policy.passwordMinLength, 15);
  });

  test('production refuses the outbox, a generated secret and plain http', () => {
    const found = problems({ NODE_ENV: 'production' });
    assert.ok(found.some((p) => p.startsWith('TWOSTEP_SECRET')));
    assert.ok(found.some((p) => p.startsWith('SMTP_URL')));
    assert.ok(found.some((p) => p.startsWith('PUBLIC_URL')));
    assert.ok(found.some((p) => p.startsWith('SMS_PROVIDER')));
    assert.ok(found.some((p) => p.startsWith('OIDC_COOKIE_KEYS')));
    const ok = loadConfig({
      NODE_ENV: 'production',
      SMS_PROVIDER: 'none',
      TWOSTEP_SECRET: 'x'.repeat(40),
      OIDC_COOKIE_KEYS: 'k'.repeat(40),
      SMTP_URL: 'smtp://relay:25',
      PUBLIC_URL: 'https://id.example.org',
    });
    assert.equal(ok.env, 'production');
  });

  test('each SMS provider needs its own settings', () => {
    const twilio = problems({ SMS_PROVIDER: 'twilio' });
    assert.deepEqual(
      twilio.map((p) => p.split(':')[0]),
      ['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN', 'TWILIO_FROM'],
    );
    assert.deepEqual(
      problems({
        SMS_PROVIDER: 'webhook',
        SMS_WEBHOOK_URL: 'https://hooks.example.org/sms',
        SMS_WEBHOOK_SECRET: 'short',
      }).length,
      1,
    );
    const config = loadConfig({
      SMS_PROVIDER: 'twilio',
      TWILIO_ACCOUNT_SID: 'AC1',
      TWILIO_AUTH_TOKEN: 'tok-secret-value',
      TWILIO_FROM: '+15005550006',
    });
    assert.equal(config.sms.provider, 'twilio');
    assert.ok(!JSON.stringify(describeConfig(config)).includes('tok-secret-value'));
  });

  test('the SIM-swap check is off by default, and each lookup needs its own settings', () => {
    const defaults = loadConfig({});
    assert.deepEqual(
      [defaults.simSwapCheck, defaults.simSwapDays, defaults.simSwapOnFailure, defaults.simSwapTimeoutMs],
      ['none', 7, 'send', 2000],
    );
    assert.deepEqual(
      problems({ SIM_SWAP_CHECK: 'twilio' }).map((p) => p.split(':')[0]),
      ['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN'],
    );
    assert.deepEqual(
      problems({ SIM_SWAP_CHECK: 'webhook', SIM_SWAP_WEBHOOK_SECRET: 'short' }).map((p) => p.split(':')[0]),
      ['SIM_SWAP_WEBHOOK_URL', 'SIM_SWAP_WEBHOOK_SECRET'],
    );
    assert.equal(problems({ SIM_SWAP_ON_FAILURE: 'maybe' }).length, 1);
    assert.equal(problems({ SIM_SWAP_DAYS: '0' }).length, 1);
    const config = loadConfig({
      SIM_SWAP_CHECK: 'webhook',
      SIM_SWAP_WEBHOOK_URL: 'https://hooks.example.org/sim-swap',
      SIM_SWAP_WEBHOOK_SECRET: 'sim-swap-webhook-secret-value-0123456',
    });
    assert.equal(config.simSwapCheck, 'webhook');
    assert.ok(!JSON.stringify(describeConfig(config)).includes('sim-swap-webhook-secret-value'));
  });

  test('the printed configuration masks secrets and URL passwords', () => {
    const config = loadConfig({
      TWOSTEP_SECRET: 's'.repeat(40),
      DATABASE_URL: 'postgres://app:hunter2hunter2@db:5432/twostep',
      SMTP_URL: 'smtp://mail:mailpass@relay:25',
      TWOSTEP_SECRET_PREVIOUS: `${'p'.repeat(40)},${'q'.repeat(40)}`,
    });
    const printed = JSON.stringify(describeConfig(config));
    assert.ok(!printed.includes('p'.repeat(40)) && !printed.includes('q'.repeat(40)), 'TWOSTEP_SECRET_PREVIOUS');
    assert.ok(printed.includes('"TWOSTEP_SECRET_PREVIOUS","value":"********"'));
    assert.ok(!printed.includes('hunter2hunter2'));
    assert.ok(!printed.includes('mailpass'));
    assert.ok(!printed.includes('s'.repeat(40)));
    assert.ok(printed.includes('postgres://app:***@db:5432/twostep'));
  });
});
