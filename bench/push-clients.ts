// The devices of the push benchmark (bench/README.md), in their own process so their work does not
// count as the server's: opens authenticated device connections and notes when each code arrives,
// on the machine-wide monotonic clock the server also uses.
import { createPrivateKey, type KeyObject } from 'node:crypto';
import WebSocket from 'ws';
import { signNonce } from '../src/device/keys.ts';

export interface ConnectCommand {
  cmd: 'connect';
  url: string;
  /** One per device; empty for the bare baseline, where `count` plain sockets are opened. */
  credentials: string[];
  count: number;
  privateKeyPem: string;
  /** Connections being opened at the same time. */
  parallel: number;
}
type Command = ConnectCommand | { cmd: 'report' } | { cmd: 'stop' };

/** challengeId → receipt time (ns, CLOCK_MONOTONIC), taken before the frame is parsed. */
const receipts: [string, number][] = [];
const sockets: WebSocket[] = [];
let unexpectedCloses = 0;

function send(message: Record<string, unknown>): void {
  process.send?.(message);
}

function open(url: string, credential: string | undefined, key: KeyObject): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    sockets.push(ws);
    let ready = false;
    ws.on('message', (data: Buffer) => {
      const receivedNs = Number(process.hrtime.bigint());
      const message = JSON.parse(String(data)) as Record<string, unknown>;
      if (message.type === 'code') {
        receipts.push([String(message.challengeId), receivedNs]);
      } else if (message.type === 'hello') {
        ws.send(JSON.stringify({ type: 'auth', credential, signature: signNonce(key, String(message.nonce)) }));
      } else if (message.type === 'ready') {
        ready = true;
        resolve();
      }
    });
    ws.on('error', (error) => {
      if (!ready) reject(error);
    });
    ws.on('close', (code) => {
      if (!ready) reject(new Error(`closed with ${code} before ready`));
      else unexpectedCloses += 1;
    });
  });
}

async function connectAll(command: ConnectCommand): Promise<{ opened: number; failed: number; ms: number }> {
  const key = createPrivateKey(command.privateKeyPem);
  const started = performance.now();
  let next = 0;
  let failed = 0;
  const worker = async (): Promise<void> => {
    while (next < command.count) {
      const i = next;
      next += 1;
      await open(command.url, command.credentials[i], key).catch(() => {
        failed += 1;
      });
    }
  };
  await Promise.all(Array.from({ length: command.parallel }, worker));
  return { opened: command.count - failed, failed, ms: performance.now() - started };
}

process.on('message', async (command: Command) => {
  try {
    if (command.cmd === 'connect') send({ type: 'connected', ...(await connectAll(command)) });
    else if (command.cmd === 'report') send({ type: 'report', receipts, unexpectedCloses });
    else if (command.cmd === 'stop') {
      for (const socket of sockets) socket.terminate();
      send({ type: 'stopped' });
      process.exit(0);
    }
  } catch (error) {
    send({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  }
});
send({ type: 'up' });
