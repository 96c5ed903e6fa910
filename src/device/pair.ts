// `twostep device pair` (docs/device-protocol.md §1): sign in (with a code when the account asks for
// one), create the key pair, register the public key, keep the credential and private key in a 0600
// file, sign the pairing session out.
import { arch, hostname, type as osType, release } from 'node:os';
import { callApi, failWith, parseServer, serverError, travelsInClear } from './api-client.ts';
import { DeviceAppError, EXIT } from './app-error.ts';
import {
  deviceFileExists,
  deviceFilePath,
  prepareDeviceFolder,
  readDeviceFile,
  writeDeviceFile,
} from './device-file.ts';
import { createDeviceKeys } from './keys.ts';
import { askChoice, createPrompter, type Prompter } from './prompts.ts';

export interface PairOptions {
  server: string;
  name?: string;
  file?: string;
}

export function defaultDeviceName(): string {
  return hostname() || 'Terminal';
}

export function deviceModel(): string {
  return `${osType()} ${release()} ${arch()}`;
}

function alreadyPaired(path: string): DeviceAppError {
  let what = 'a paired device';
  try {
    const { device } = readDeviceFile(path);
    what = `"${device.name}", paired with ${device.server}`;
  } catch {
    // unreadable: say only that something is there
  }
  return new DeviceAppError(
    `${path} already holds ${what}. Remove it first with: twostep device forget --file ${path}   (or choose another --file)`,
  );
}

interface Channel {
  id: string;
  type: string;
  label: string;
}

interface Challenge {
  id: string;
  channels: Channel[];
}

function describeChannel(channel: Channel): string {
  if (channel.type === 'sms') return `text message to ${channel.label}`;
  if (channel.type === 'device') return `trusted device (${channel.label})`;
  return channel.label;
}

/** The code step of a two-step sign-in: choose a channel, send the code, answer with it. */
async function secondStep(server: string, challenge: Challenge, prompter: Prompter): Promise<string> {
  const { channels } = challenge;
  if (channels.length === 0)
    throw new DeviceAppError('This account asks for a code at sign-in but has nowhere to send it.', EXIT.refused);
  process.stderr.write(
    `This account asks for a code too. Send it to:\n${channels.map((c, i) => `  ${i + 1}. ${describeChannel(c)}\n`).join('')}`,
  );
  const channel = channels[await askChoice(prompter, `Choice [1-${channels.length}, Enter for 1]: `, channels.length)];
  const path = `/api/v1/challenges/${encodeURIComponent(challenge.id)}`;
  const sent = await callApi(server, { method: 'POST', path: `${path}/send`, json: { channel: channel.id } });
  if (sent.status !== 202) failWith('Sending the code failed', sent);
  process.stderr.write(`Code sent: ${describeChannel(channel)}.\n`);
  for (;;) {
    const code = (await prompter.ask('Code: ')).replace(/\s/g, '');
    if (!code) continue;
    const answer = await callApi(server, { method: 'POST', path: `${path}/verify`, json: { code } });
    if (answer.status === 200 && typeof answer.body.token === 'string') return answer.body.token;
    const error = serverError(answer);
    const detail = (answer.body.error as { detail?: { attemptsLeft?: unknown } } | undefined)?.detail;
    const attemptsLeft = typeof detail?.attemptsLeft === 'number' ? detail.attemptsLeft : 0;
    if (error?.code !== 'CODE_WRONG') failWith('Sign-in failed', answer);
    if (attemptsLeft === 0)
      throw new DeviceAppError(
        'That code is not right, and no attempts are left. Run `twostep device pair` again for a new code.',
        EXIT.refused,
      );
    process.stderr.write(`That code is not right; ${attemptsLeft} attempt${attemptsLeft === 1 ? '' : 's'} left.\n`);
  }
}

async function signIn(server: string, email: string, password: string, prompter: Prompter): Promise<string> {
  const answer = await callApi(server, { method: 'POST', path: '/api/v1/signin', json: { email, password } });
  const challenge = answer.body.challenge as Challenge | undefined;
  if (answer.status === 200 && answer.body.status === 'two_step_required' && challenge)
    return secondStep(server, challenge, prompter);
  if (answer.status !== 200 || typeof answer.body.token !== 'string') failWith('Sign-in failed', answer);
  return answer.body.token;
}

async function signOut(server: string, sessionToken: string): Promise<void> {
  try {
    const answer = await callApi(server, { method: 'POST', path: '/api/v1/signout', sessionToken });
    if (answer.status !== 204) process.stderr.write('warning: the pairing session could not be signed out.\n');
  } catch {
    process.stderr.write('warning: the pairing session could not be signed out; it ends by itself when idle.\n');
  }
}

export async function pairDevice(options: PairOptions): Promise<number> {
  const server = parseServer(options.server);
  const path = deviceFilePath(options.file);
  if (deviceFileExists(path)) throw alreadyPaired(path);
  prepareDeviceFolder(path); // fail before asking for a password, not after registering
  const name = (options.name ?? defaultDeviceName()).trim();
  if (!name) throw new DeviceAppError('--name must not be empty');
  if (travelsInClear(server))
    process.stderr.write(`warning: ${server} is plain http: your password can be read on the way. Prefer https.\n`);

  const prompter = createPrompter();
  let sessionToken: string;
  try {
    const email = (await prompter.ask('Email: ')).trim();
    if (!email) throw new DeviceAppError('An email address is needed to pair.', EXIT.noInput);
    const password = await prompter.askSecret('Password: ');
    sessionToken = await signIn(server, email, password, prompter);
  } finally {
    prompter.close();
  }

  try {
    const keys = createDeviceKeys();
    const answer = await callApi(server, {
      method: 'POST',
      path: '/api/v1/devices',
      sessionToken,
      json: { name, model: deviceModel(), publicKey: keys.publicKey },
    });
    const device = answer.body.device as { id?: unknown; name?: unknown } | undefined;
    if (answer.status !== 201 || typeof answer.body.credential !== 'string' || typeof device?.id !== 'string')
      failWith('Pairing failed', answer);
    const deviceId = device.id;
    try {
      writeDeviceFile(path, {
        server,
        deviceId,
        credential: answer.body.credential,
        privateKeyPem: keys.privateKeyPem,
        name: typeof device.name === 'string' ? device.name : name,
      });
    } catch (error) {
      // Without the file the registration is useless: take it back rather than leave a stray device.
      await callApi(server, { method: 'DELETE', path: `/api/v1/devices/${deviceId}`, sessionToken }).catch(() => {});
      throw error;
    }
    const shownName = typeof device.name === 'string' ? device.name : name;
    process.stdout.write(
      [
        `Paired "${shownName}" with ${server} (device ${deviceId}).`,
        `Saved to ${path} (readable only by you).`,
        'This device is not trusted yet. Keep it listening with',
        `  twostep device run${options.file ? ` --file ${path}` : ''}`,
        'then choose "Verify" for it on your account page and type the code it shows.',
        '',
      ].join('\n'),
    );
    return 0;
  } finally {
    await signOut(server, sessionToken);
  }
}
