// `twostep device status`: what the device file says, and whether the server accepts the device right
// now (one connection: wait for `ready`, read `trusted`, disconnect).
import { EXIT } from './app-error.ts';
import { connectDevice } from './connection.ts';
import { type DeviceFile, deviceFilePath, readDeviceFile } from './device-file.ts';

export interface StatusOptions {
  file?: string;
  json?: boolean;
}

const CHECK_TIMEOUT_MS = 15_000;

export type ServerVerdict =
  | { accepted: true; trusted: boolean; name: string }
  | { accepted: false; reason: 'removed' | 'refused' | 'unreachable' | 'no answer'; detail: string };

/** Connects once, without retrying, and reports what the server said. */
export function checkWithServer(device: DeviceFile, timeoutMs: number = CHECK_TIMEOUT_MS): Promise<ServerVerdict> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (verdict: ServerVerdict): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      connection.close();
      resolve(verdict);
    };
    const timer = setTimeout(
      () => settle({ accepted: false, reason: 'no answer', detail: `no answer within ${timeoutMs / 1000} s` }),
      timeoutMs,
    );
    const connection = connectDevice({
      server: device.server,
      credential: device.credential,
      privateKeyPem: device.privateKeyPem,
      reconnect: false,
      onMessage(message) {
        if (message.type !== 'ready') return;
        const info = (message.device ?? {}) as { name?: string; trusted?: boolean };
        settle({ accepted: true, trusted: info.trusted === true, name: info.name ?? device.name });
      },
      onStatus(status, detail, closeCode) {
        if (status === 'stopped')
          settle({ accepted: false, reason: closeCode === 4403 ? 'removed' : 'refused', detail: detail ?? '' });
        else if (status === 'disconnected')
          settle({ accepted: false, reason: 'unreachable', detail: detail || `closed with ${closeCode ?? 'no code'}` });
      },
    });
  });
}

function verdictLine(verdict: ServerVerdict, server: string): string {
  if (verdict.accepted)
    return `Accepted: yes\nTrusted:  ${verdict.trusted ? 'yes' : 'no (choose "Verify" for it on your account page, with `twostep device run` open)'}`;
  const why = {
    removed: 'no: this device was removed from the account (twostep device forget, then pair again)',
    refused:
      'no: the server does not accept this device: removed, or its key is no longer valid (twostep device forget, then pair again)',
    unreachable: `unknown: cannot reach ${server}`,
    'no answer': `unknown: ${server} did not answer in time`,
  }[verdict.reason];
  return `Accepted: ${why}`;
}

export async function deviceStatus(options: StatusOptions): Promise<number> {
  const path = deviceFilePath(options.file);
  const { device, warning } = readDeviceFile(path);
  if (warning) process.stderr.write(`${warning}\n`);
  const verdict = await checkWithServer(device);
  if (options.json) {
    process.stdout.write(
      `${JSON.stringify({ server: device.server, deviceId: device.deviceId, name: device.name, file: path, ...verdict })}\n`,
    );
  } else {
    process.stdout.write(
      [
        `Server:   ${device.server}`,
        `Device:   ${device.deviceId}`,
        `Name:     ${verdict.accepted ? verdict.name : device.name}`,
        `File:     ${path}`,
        verdictLine(verdict, device.server),
        '',
      ].join('\n'),
    );
  }
  if (verdict.accepted) return 0;
  return verdict.reason === 'removed' || verdict.reason === 'refused' ? EXIT.refused : EXIT.unavailable;
}
