// `twostep device pair` (docs/device-protocol.md §1): sign in, create the key pair, register the
// public key, keep the credential and private key in a 0600 file, sign the pairing session out.
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
import { createPrompter } from './prompts.ts';

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

async function signIn(server: string, email: string, password: string): Promise<string> {
  const answer = await callApi(server, { method: 'POST', path: '/api/v1/signin', json: { email, password } });
  const twoStep =
    answer.body.status === 'two_step_required' || serverError(answer)?.code.toUpperCase() === 'TWO_STEP_REQUIRED';
  if (twoStep)
    throw new DeviceAppError(
      'This account asks for a second step at sign-in, which this version of `twostep device pair` does not support yet.',
      EXIT.refused,
    );
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
  let email: string;
  let password: string;
  try {
    email = (await prompter.ask('Email: ')).trim();
    if (!email) throw new DeviceAppError('An email address is needed to pair.', EXIT.noInput);
    password = await prompter.askSecret('Password: ');
  } finally {
    prompter.close();
  }

  const sessionToken = await signIn(server, email, password);
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
