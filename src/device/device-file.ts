// The paired device on disk (docs/device-protocol.md §1): server, device id, credential and the
// private key in PEM. It is as good as a trusted phone, so it is written 0600 in a 0700 folder, and
// written whole (temporary file, then rename) so a crash never leaves half a key.
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { DeviceAppError, EXIT } from './app-error.ts';

export interface DeviceFile {
  server: string;
  deviceId: string;
  credential: string;
  privateKeyPem: string;
  name: string;
}

/** `--file`, else TWOSTEP_DEVICE_FILE, else ~/.config/twostep/device.json (XDG_CONFIG_HOME respected). */
export function deviceFilePath(option: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (option) return resolve(option);
  if (env.TWOSTEP_DEVICE_FILE) return resolve(env.TWOSTEP_DEVICE_FILE);
  const configHome = env.XDG_CONFIG_HOME || join(homedir(), '.config');
  return join(configHome, 'twostep', 'device.json');
}

export function deviceFileExists(path: string): boolean {
  return existsSync(path);
}

function isDeviceFile(value: unknown): value is DeviceFile {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return ['server', 'deviceId', 'credential', 'privateKeyPem', 'name'].every(
    (field) => typeof record[field] === 'string' && record[field] !== '',
  );
}

export interface ReadDeviceFile {
  device: DeviceFile;
  /** Set when the file can be read by other users of this machine. */
  warning?: string;
}

export function readDeviceFile(path: string): ReadDeviceFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      throw new DeviceAppError(
        `No paired device in ${path}. Pair this computer first: twostep device pair --server URL`,
        EXIT.noInput,
      );
    throw new DeviceAppError(`Cannot read ${path}: ${(error as Error).message}`, EXIT.noInput);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (!isDeviceFile(parsed))
    throw new DeviceAppError(`${path} is not a Twostep device file (pair again, or use --file).`, EXIT.badFile);
  const device: DeviceFile = {
    server: parsed.server,
    deviceId: parsed.deviceId,
    credential: parsed.credential,
    privateKeyPem: parsed.privateKeyPem,
    name: parsed.name,
  };
  // Like ssh with its keys: a key others can read is worth a warning.
  const openToOthers = process.platform !== 'win32' && (statSync(path).mode & 0o077) !== 0;
  return openToOthers
    ? { device, warning: `warning: ${path} can be read by other users; run: chmod 600 ${path}` }
    : { device };
}

/** Creates the folder (0700) if needed; fails if the folder cannot be written. */
export function prepareDeviceFolder(path: string): void {
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new DeviceAppError(`Cannot create the folder for ${path}: ${(error as Error).message}`, EXIT.cantCreate);
  }
}

export function writeDeviceFile(path: string, device: DeviceFile): void {
  prepareDeviceFolder(path);
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, `${JSON.stringify(device, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    chmodSync(temporary, 0o600);
    renameSync(temporary, path);
  } catch (error) {
    try {
      unlinkSync(temporary);
    } catch {
      // nothing was written
    }
    throw new DeviceAppError(`Cannot write ${path}: ${(error as Error).message}`, EXIT.cantCreate);
  }
}

export function removeDeviceFile(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new DeviceAppError(`Cannot delete ${path}: ${(error as Error).message}`, EXIT.failure);
  }
}
