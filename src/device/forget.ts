// `twostep device forget`: the device removes itself from the account (POST /api/v1/devices/self/forget
// with its credential), then its file is deleted. If the server cannot confirm, the file is kept
// unless --force: deleting it would lose the only way to remove the device from here.
import { callApi, serverError } from './api-client.ts';
import { DeviceAppError, EXIT } from './app-error.ts';
import { deviceFilePath, readDeviceFile, removeDeviceFile } from './device-file.ts';

export interface ForgetOptions {
  file?: string;
  force?: boolean;
}

export async function forgetDevice(options: ForgetOptions): Promise<number> {
  const path = deviceFilePath(options.file);
  const { device } = readDeviceFile(path);
  let problem: DeviceAppError | undefined;
  try {
    const answer = await callApi(device.server, {
      method: 'POST',
      path: '/api/v1/devices/self/forget',
      deviceCredential: device.credential,
    });
    if (answer.status === 204) {
      removeDeviceFile(path);
      process.stdout.write(`Removed "${device.name}" from your account at ${device.server} and deleted ${path}.\n`);
      return 0;
    }
    if (serverError(answer)?.code === 'DEVICE_AUTH_FAILED') {
      // The credential opens nothing any more: the device is already gone, so the file is useless.
      removeDeviceFile(path);
      process.stdout.write(
        `${device.server} no longer knows "${device.name}" (it was already removed). Deleted ${path}.\n`,
      );
      return 0;
    }
    const error = serverError(answer);
    problem = new DeviceAppError(
      `The server could not remove this device: ${error ? `${error.message} (${error.code})` : `it answered ${answer.status}`}.`,
      EXIT.failure,
    );
  } catch (error) {
    if (!(error instanceof DeviceAppError)) throw error;
    problem = error;
  }
  if (options.force) {
    removeDeviceFile(path);
    process.stderr.write(
      `${problem.message}\nDeleted ${path} anyway (--force). "${device.name}" may still be listed on your account: remove it on your account page.\n`,
    );
    return 0;
  }
  throw new DeviceAppError(
    `${problem.message}\nKept ${path}. Try again later, or use --force to delete it anyway (then remove "${device.name}" on your account page).`,
    problem.exitCode,
  );
}
