// `twostep device run`: keeps the live connection (docs/device-protocol.md §2) and shows each pushed
// code; `n` + Enter answers "This wasn't me" for the latest open request, `a` + Enter approves the
// latest one whose number was picked right (number matching), `q` + Enter quits. With --json every
// event is one JSON line on stdout, for scripts.
import { DeviceAppError, EXIT } from './app-error.ts';
import { connectDevice, type DeviceConnection, type DeviceMessage } from './connection.ts';
import { deviceFilePath, readDeviceFile } from './device-file.ts';
import { signApproval } from './keys.ts';
import { type CodePush, codePush, formatCodeBlock } from './present.ts';
import { LineReader } from './prompts.ts';

export interface RunOptions {
  file?: string;
  json?: boolean;
}

const CLOSE_REMOVED = 4403;
const CLOSE_REFUSED = 4401;

const HELP_LINE =
  'Type n and Enter for "This wasn\'t me" on the latest request, a and Enter to approve it (after picking its number), q and Enter to quit.';

function shortId(challengeId: string): string {
  return challengeId.slice(0, 8);
}

export function stoppedError(closeCode: number | undefined, path: string): DeviceAppError {
  if (closeCode === CLOSE_REMOVED)
    return new DeviceAppError(
      `This device was removed from your account, so it gets no more codes. Delete its file with: twostep device forget --file ${path}   (then pair again if you want)`,
      EXIT.refused,
    );
  if (closeCode === CLOSE_REFUSED)
    return new DeviceAppError(
      `The server does not accept this device (it was removed, or its key is no longer valid there). Delete its file with: twostep device forget --file ${path}   then pair again`,
      EXIT.refused,
    );
  return new DeviceAppError(
    `The server closed the connection for good (code ${closeCode ?? 'unknown'}).`,
    EXIT.refused,
  );
}

export function runDevice(options: RunOptions): Promise<number> {
  const path = deviceFilePath(options.file);
  const { device, warning } = readDeviceFile(path);
  if (warning) process.stderr.write(`${warning}\n`);
  const json = options.json === true;
  const emit = (event: string, fields: Record<string, unknown>, human?: string): void => {
    if (json) process.stdout.write(`${JSON.stringify({ event, ...fields })}\n`);
    else if (human !== undefined) process.stdout.write(`${human}\n`);
  };

  /** Open requests by arrival; `n` answers the newest one that has not expired. */
  const open = new Map<string, CodePush>();
  const expiryTimers = new Map<string, ReturnType<typeof setTimeout>>();
  const forget = (challengeId: string): CodePush | undefined => {
    const push = open.get(challengeId);
    open.delete(challengeId);
    clearTimeout(expiryTimers.get(challengeId));
    expiryTimers.delete(challengeId);
    return push;
  };
  /** Requests the user said were not theirs, until the server confirms: code by challenge id. */
  const denying = new Map<string, string>();
  /** The newest number-matching request, until the code for it arrives. */
  let pendingMatch: { challengeId: string; choices: number[] } | undefined;
  let connected = false;
  let everConnected = false;
  let outageReported = false;

  return new Promise<number>((resolve, reject) => {
    let connection: DeviceConnection | undefined;
    const lines = new LineReader(process.stdin);
    const finish = (outcome: number | DeviceAppError): void => {
      connection?.close();
      lines.close();
      for (const timer of expiryTimers.values()) clearTimeout(timer);
      if (typeof outcome === 'number') resolve(outcome);
      else reject(outcome);
    };

    const onCode = (push: CodePush): void => {
      forget(push.challengeId);
      open.set(push.challengeId, push);
      emit('code', { ...push }, formatCodeBlock(push, new Date()));
      const left = new Date(push.expiresAt).getTime() - Date.now();
      if (Number.isFinite(left)) {
        const timer = setTimeout(
          () => {
            if (!forget(push.challengeId)) return;
            emit('expired', { challengeId: push.challengeId }, `Code ${push.code} has expired.`);
          },
          Math.max(0, left),
        );
        timer.unref();
        expiryTimers.set(push.challengeId, timer);
      }
    };

    const onMessage = (message: DeviceMessage): void => {
      const challengeId = typeof message.challengeId === 'string' ? message.challengeId : undefined;
      switch (message.type) {
        case 'ready': {
          connected = true;
          everConnected = true;
          outageReported = false;
          const info = (message.device ?? {}) as { id?: string; name?: string; trusted?: boolean };
          const trust = info.trusted ? 'trusted' : 'not trusted yet: choose "Verify" for it on your account page';
          emit(
            'ready',
            { device: message.device },
            `Connected to ${device.server} as "${info.name ?? device.name}" (${trust}).\nWaiting for codes. ${HELP_LINE}`,
          );
          return;
        }
        case 'code': {
          const push = codePush(message);
          if (push) onCode(push);
          if (push && pendingMatch?.challengeId === push.challengeId) pendingMatch = undefined;
          return;
        }
        case 'match': {
          // Number matching: the code comes only after the number the sign-in screen shows is typed here.
          const choices = Array.isArray(message.choices) ? message.choices.map(Number) : [];
          if (!challengeId || choices.length === 0) return;
          pendingMatch = { challengeId, choices };
          const context = (message.context ?? {}) as Record<string, unknown>;
          emit(
            'match',
            { challengeId, choices },
            `Request from ${String(context.browser ?? 'a browser')} at ${String(context.ip ?? '?')} (${String(context.place ?? '?')}).\n` +
              `  Type the number shown where you are signing in: ${choices.join('   ')}\n  Not you? Type n and Enter.`,
          );
          return;
        }
        case 'cancelled': {
          if (!challengeId) return;
          const push = forget(challengeId);
          const what = push ? `Code ${push.code}` : `Request ${shortId(challengeId)}`;
          const answered = message.reason === 'answered';
          // The server cancels before it confirms a denial: one line about it is enough.
          let human: string | undefined;
          if (answered) human = `${what} was used: that request went through.`;
          else if (!denying.has(challengeId)) human = `${what} was cancelled.`;
          emit('cancelled', { challengeId, ...(answered ? { reason: 'answered' } : {}) }, human);
          return;
        }
        case 'trusted':
          emit('trusted', {}, 'This device is now a trusted device of your account.');
          return;
        case 'approved':
          if (!challengeId) return;
          emit('approved', { challengeId }, 'Approved: the sign-in goes on where it was started.');
          return;
        case 'denied': {
          if (!challengeId) return;
          const code = forget(challengeId)?.code ?? denying.get(challengeId);
          denying.delete(challengeId);
          emit(
            'denied',
            { challengeId },
            `Denied${code ? ` code ${code}` : ''}: the request is cancelled and an email tells the account owner.`,
          );
          return;
        }
        case 'error': {
          const code = String(message.code ?? 'UNKNOWN');
          if (challengeId) {
            forget(challengeId);
            denying.delete(challengeId);
          }
          const human =
            challengeId && code === 'NOT_FOUND'
              ? 'That request is already over (answered, expired or cancelled).'
              : `The server answered: ${code}`;
          emit('error', { code, ...(challengeId ? { challengeId } : {}) }, human);
          return;
        }
        default:
          return;
      }
    };

    connection = connectDevice({
      server: device.server,
      credential: device.credential,
      privateKeyPem: device.privateKeyPem,
      onMessage,
      onStatus(status, detail, closeCode) {
        if (status === 'disconnected') {
          connected = false;
          if (json) return emit('disconnected', { closeCode: closeCode ?? null, reason: detail ?? '' });
          if (outageReported) return;
          outageReported = true;
          process.stderr.write(
            everConnected
              ? 'Connection lost; reconnecting (backoff up to a minute)…\n'
              : `Cannot reach ${device.server} yet; retrying (backoff up to a minute). q and Enter to stop.\n`,
          );
        } else if (status === 'stopped') {
          connected = false;
          emit('stopped', { closeCode: closeCode ?? null, reason: detail ?? '' });
          finish(stoppedError(closeCode, path));
        }
      },
    });

    const deny = (): void => {
      if (pendingMatch && connected) {
        // A request still waiting for its number has no code yet: deny it by its id.
        const { challengeId } = pendingMatch;
        pendingMatch = undefined;
        denying.set(challengeId, '');
        connection?.send({ type: 'deny', challengeId });
        emit('deny_sent', { challengeId }, `Telling the server "This wasn't me"…`);
        return;
      }
      const now = Date.now();
      const latest = [...open.values()]
        .reverse()
        .find((push) => !denying.has(push.challengeId) && new Date(push.expiresAt).getTime() > now);
      if (!latest) {
        emit('notice', { message: 'nothing to deny' }, 'There is no open request to deny.');
      } else if (!connected) {
        emit('notice', { message: 'not connected' }, 'Not connected right now; try again once reconnected.');
      } else {
        denying.set(latest.challengeId, latest.code);
        connection?.send({ type: 'deny', challengeId: latest.challengeId });
        emit(
          'deny_sent',
          { challengeId: latest.challengeId },
          `Telling the server "This wasn't me" for code ${latest.code}…`,
        );
      }
    };

    /** "Approve" for the newest open request whose number was picked right here. */
    const approve = (): void => {
      const now = Date.now();
      const latest = [...open.values()]
        .reverse()
        .find(
          (push) =>
            push.matched !== undefined && !denying.has(push.challengeId) && new Date(push.expiresAt).getTime() > now,
        );
      if (!latest || latest.matched === undefined) {
        emit('notice', { message: 'nothing to approve' }, 'There is no request to approve: pick its number first.');
      } else if (!connected) {
        emit('notice', { message: 'not connected' }, 'Not connected right now; try again once reconnected.');
      } else {
        const signature = signApproval(device.privateKeyPem, latest.challengeId, latest.matched);
        connection?.send({ type: 'approve', challengeId: latest.challengeId, signature });
        emit('approve_sent', { challengeId: latest.challengeId }, 'Approving…');
      }
    };

    const readCommands = async (): Promise<void> => {
      for (;;) {
        const line = await lines.next();
        // A closed pipe (a service without input) leaves the app running; Ctrl-D at a terminal quits.
        if (line === undefined) return process.stdin.isTTY ? finish(0) : undefined;
        const command = line.trim().toLowerCase();
        if (/^\d{2}$/.test(command) && pendingMatch) {
          connection?.send({ type: 'match', challengeId: pendingMatch.challengeId, number: Number(command) });
        } else if (command === 'n' || command === 'no') deny();
        else if (command === 'a' || command === 'approve') approve();
        else if (command === 'q' || command === 'quit') {
          emit('quit', {});
          return finish(0);
        } else if (command !== '') emit('notice', { message: 'unknown command' }, HELP_LINE);
      }
    };
    void readCommands();

    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => finish(0));
  });
}
