// The device side of the live connection (docs/device-protocol.md §2): answers the hello with a
// signature, hands every later message to the app, and reconnects with backoff when the line drops,
// except when the server says the device was removed or cannot authenticate.
import { randomInt } from 'node:crypto';
import { signNonce } from './keys.ts';

export interface DeviceMessage {
  type: string;
  [key: string]: unknown;
}

export interface DeviceConnectionOptions {
  server: string;
  credential: string;
  privateKeyPem: string;
  onMessage: (message: DeviceMessage) => void;
  /** `closeCode` is the WebSocket close code of a drop: 4403 removed, 4401 refused (see FINAL_CLOSE_CODES). */
  onStatus?: (status: 'connecting' | 'ready' | 'disconnected' | 'stopped', detail?: string, closeCode?: number) => void;
  /** Reconnect after a drop (default true). */
  reconnect?: boolean;
}

export interface DeviceConnection {
  send(message: DeviceMessage): void;
  close(): void;
  /** Resolves when the server accepted the device, rejects if it refused. */
  ready: Promise<void>;
}

const FINAL_CLOSE_CODES = new Set([4400, 4401, 4403]);

export function connectionUrl(server: string): string {
  const url = new URL('/api/v1/devices/connect', server);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

export function connectDevice(options: DeviceConnectionOptions): DeviceConnection {
  let socket: WebSocket | undefined;
  let stopped = false;
  let attempt = 0;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let settle: { resolve: () => void; reject: (error: Error) => void } | undefined;
  const ready = new Promise<void>((resolve, reject) => {
    settle = { resolve, reject };
  });
  ready.catch(() => {});

  const open = (): void => {
    options.onStatus?.('connecting');
    const ws = new WebSocket(connectionUrl(options.server));
    socket = ws;
    ws.addEventListener('message', (event) => {
      let message: DeviceMessage;
      try {
        message = JSON.parse(String(event.data));
      } catch {
        return;
      }
      if (message.type === 'hello' && typeof message.nonce === 'string') {
        ws.send(
          JSON.stringify({
            type: 'auth',
            credential: options.credential,
            signature: signNonce(options.privateKeyPem, message.nonce),
          }),
        );
        return;
      }
      if (message.type === 'ready') {
        attempt = 0;
        options.onStatus?.('ready');
        settle?.resolve();
      }
      options.onMessage(message);
    });
    ws.addEventListener('close', (event) => {
      if (stopped) return;
      if (FINAL_CLOSE_CODES.has(event.code)) {
        stopped = true;
        options.onStatus?.('stopped', event.reason || String(event.code), event.code);
        settle?.reject(new Error(event.reason || `closed with ${event.code}`));
        return;
      }
      options.onStatus?.('disconnected', event.reason, event.code);
      if (options.reconnect === false) {
        settle?.reject(new Error('connection closed'));
        return;
      }
      // 1 s doubling to 60 s, with jitter so that many devices do not return at the same instant.
      const delay = Math.min(60_000, 1000 * 2 ** attempt) * (randomInt(500, 1001) / 1000);
      attempt += 1;
      retryTimer = setTimeout(() => !stopped && open(), delay);
    });
  };
  open();

  return {
    ready,
    send(message) {
      socket?.send(JSON.stringify(message));
    },
    close() {
      stopped = true;
      // A pending retry would otherwise keep the process alive for up to a minute.
      clearTimeout(retryTimer);
      socket?.close(1000, 'bye');
    },
  };
}
