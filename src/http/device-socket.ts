// The live connection of a trusted device (docs/device-protocol.md §2): hello with a fresh nonce,
// proof of possession of the device key, then pending and new pushes; heartbeats drop dead peers.
import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import { randomToken } from '../core/tokens.ts';
import type { Services } from '../flows/context.ts';
import { approveFromDevice } from '../flows/device-approval.ts';
import { authenticateDevice, denyFromDevice } from '../flows/devices.ts';
import { answerMatch } from '../flows/number-matching.ts';
import type { Device } from '../store/devices.ts';
import { cookieNames } from './cookies.ts';

const AUTH_TIMEOUT_MS = 10_000;
const PING_EVERY_MS = 25_000;
const MAX_MESSAGE_BYTES = 4096;

export const CLOSE = { authFailed: 4401, removed: 4403, forbiddenOrigin: 4400 } as const;

function parse(raw: unknown): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(String(raw));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

export function registerDeviceSocket(app: FastifyInstance, services: Services): void {
  const expectedOrigin = new URL(services.config.publicUrl).origin;
  app.get('/api/v1/devices/connect', { websocket: true, schema: { hide: true } }, (socket: WebSocket, request) => {
    // A page on another site must not open a device connection with this browser's cookie.
    const pageOrigin = request.headers.origin;
    if (pageOrigin !== undefined && pageOrigin !== expectedOrigin) {
      socket.close(CLOSE.forbiddenOrigin, 'origin not allowed');
      return;
    }
    const ctx = {
      ip: request.ip,
      userAgent: request.headers['user-agent']?.slice(0, 512) ?? null,
      locale: 'en' as const,
    };
    const cookieCredential = request.cookies[cookieNames(services.config).device];
    // The nonce is good for one authentication attempt on this connection only.
    let nonce: string | undefined = randomToken(32);
    let device: Device | undefined;
    let alive = true;
    const send = (message: Record<string, unknown>): void => {
      if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(message));
    };
    const hubSocket = {
      send: (text: string) => socket.readyState === socket.OPEN && socket.send(text),
      close: (code: number, reason: string) => socket.close(code, reason),
    };
    const authTimer = setTimeout(() => socket.close(CLOSE.authFailed, 'authentication timed out'), AUTH_TIMEOUT_MS);
    const pinger = setInterval(() => {
      if (!alive) return socket.terminate();
      alive = false;
      socket.ping();
    }, PING_EVERY_MS);
    socket.on('pong', () => {
      alive = true;
    });
    socket.on('close', () => {
      clearTimeout(authTimer);
      clearInterval(pinger);
      if (device) services.hub.detach(device.id, hubSocket);
    });

    socket.on('message', async (raw: Buffer) => {
      if (raw.length > MAX_MESSAGE_BYTES) return socket.close(1009, 'message too big');
      const message = parse(raw);
      if (!message) return send({ type: 'error', code: 'VALIDATION_FAILED' });
      try {
        if (message.type === 'auth' && !device) {
          const challengeNonce = nonce;
          nonce = undefined;
          const credential = typeof message.credential === 'string' ? message.credential : cookieCredential;
          const signature = typeof message.signature === 'string' ? message.signature : '';
          const found = challengeNonce
            ? await authenticateDevice(services, credential, challengeNonce, signature)
            : undefined;
          if (!found) {
            send({ type: 'error', code: 'DEVICE_AUTH_FAILED' });
            return socket.close(CLOSE.authFailed, 'authentication failed');
          }
          clearTimeout(authTimer);
          device = found;
          services.hub.attach(device.id, hubSocket);
          send({ type: 'ready', device: { id: device.id, name: device.name, trusted: device.trustedAt !== null } });
          for (const push of await services.hub.pendingFor(device.id, services.clock.now())) send(push);
          return;
        }
        if (message.type === 'deny' && device && typeof message.challengeId === 'string') {
          const denied = await denyFromDevice(services, device, message.challengeId, ctx);
          return send(
            denied
              ? { type: 'denied', challengeId: message.challengeId }
              : { type: 'error', code: 'NOT_FOUND', challengeId: message.challengeId },
          );
        }
        if (message.type === 'match' && device && typeof message.challengeId === 'string') {
          const answer = await answerMatch(services, device, message.challengeId, message.number, ctx);
          if (answer.result === 'code') return send(answer.codePush);
          return send(
            answer.result === 'denied'
              ? { type: 'denied', challengeId: message.challengeId, reason: 'wrong_match' }
              : { type: 'error', code: 'NOT_FOUND', challengeId: message.challengeId },
          );
        }
        if (message.type === 'approve' && device && typeof message.challengeId === 'string') {
          const approved = await approveFromDevice(services, device, message.challengeId, message.signature, ctx);
          if (approved === 'approved') return send({ type: 'approved', challengeId: message.challengeId });
          return send({
            type: 'error',
            code: approved === 'bad_signature' ? 'DEVICE_AUTH_FAILED' : 'NOT_FOUND',
            challengeId: message.challengeId,
          });
        }
        send({ type: 'error', code: device ? 'VALIDATION_FAILED' : 'DEVICE_AUTH_FAILED' });
      } catch (error) {
        request.log.error({ err: error }, 'device message failed');
        send({ type: 'error', code: 'INTERNAL' });
      }
    });
    send({ type: 'hello', nonce });
  });
}
