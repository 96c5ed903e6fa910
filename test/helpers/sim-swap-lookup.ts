// A small local server that speaks the two SIM-swap lookup protocols Twostep knows: Twilio's Lookup
// v2 (GET /v2/PhoneNumbers/{E.164}?Fields=sim_swap, HTTP Basic) and the signed JSON webhook (POST
// {"number"}, X-Twostep-Timestamp and X-Twostep-Signature, answered {"swappedAt"}). It checks the
// credentials and the signature itself, the way a real receiver would, and answers what the test
// set for each number; by default a number whose SIM never changed.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LookupRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
  /** The number asked about. */
  number: string;
}

/** What the carrier knows of one number: the last SIM change, or Twilio's period form, or an outage. */
export type CarrierRecord =
  | { swappedAt: Date | null }
  | { period: string; swappedInPeriod: boolean }
  | { twilioSimSwap: unknown }
  | { status: number }
  | { hang: true };

export interface FakeLookup {
  server: Server;
  url(): string;
  received: LookupRequest[];
  /** Per number; numbers not here never had their SIM changed. */
  records: Map<string, CarrierRecord>;
  /** When set, every number answers this (an outage, say). */
  everyNumber: CarrierRecord | undefined;
  /** Answered first, one per request, before the records (a failure, then recovery). */
  next: CarrierRecord[];
  /** Requests that failed the credential or signature check. */
  refused: LookupRequest[];
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface FakeLookupOptions {
  accountSid: string;
  authToken: string;
  webhookSecret: string;
}

function signatureOk(secret: string, request: LookupRequest): boolean {
  const timestamp = String(request.headers['x-twostep-timestamp'] ?? '');
  const given = Buffer.from(String(request.headers['x-twostep-signature'] ?? ''));
  const expected = Buffer.from(
    `sha256=${createHmac('sha256', secret).update(`${timestamp}.${request.body}`).digest('hex')}`,
  );
  return /^\d+$/.test(timestamp) && given.length === expected.length && timingSafeEqual(given, expected);
}

/** Twilio's answer for a number: the standard Lookup fields plus `sim_swap`. */
function twilioBody(number: string, record: CarrierRecord): unknown {
  let simSwap: unknown;
  if ('twilioSimSwap' in record) simSwap = record.twilioSimSwap;
  else if ('period' in record)
    simSwap = {
      last_sim_swap: {
        last_sim_swap_date: null,
        swapped_period: record.period,
        swapped_in_period: record.swappedInPeriod,
      },
      carrier_name: 'Example Mobile',
      mobile_country_code: '204',
      mobile_network_code: '08',
      error_code: null,
    };
  else if ('swappedAt' in record)
    simSwap = {
      last_sim_swap: {
        last_sim_swap_date: record.swappedAt?.toISOString() ?? null,
        swapped_period: record.swappedAt ? 'PT1H' : 'PT168H',
        swapped_in_period: record.swappedAt !== null,
      },
      carrier_name: 'Example Mobile',
      mobile_country_code: '204',
      mobile_network_code: '08',
      error_code: null,
    };
  return {
    calling_country_code: '31',
    country_code: 'NL',
    phone_number: number,
    national_format: number,
    valid: true,
    validation_errors: [],
    caller_name: null,
    sim_swap: simSwap,
    call_forwarding: null,
    line_type_intelligence: null,
    url: `https://lookups.twilio.com/v2/PhoneNumbers/${number}`,
  };
}

export function fakeLookup(options: FakeLookupOptions): FakeLookup {
  const received: LookupRequest[] = [];
  const refused: LookupRequest[] = [];
  const records = new Map<string, CarrierRecord>();
  const fake: FakeLookup = {
    server: createServer((request: IncomingMessage, response: ServerResponse) => {
      let body = '';
      request.on('data', (chunk) => {
        body += chunk;
      });
      request.on('end', () => {
        const url = new URL(request.url ?? '/', 'http://fake');
        const twilio = /^\/v2\/PhoneNumbers\/([^/]+)$/.exec(url.pathname);
        let number = '';
        if (twilio) number = decodeURIComponent(twilio[1] as string);
        else if (request.method === 'POST' && url.pathname === '/sim-swap') {
          try {
            number = String((JSON.parse(body) as { number?: unknown }).number ?? '');
          } catch {
            number = '';
          }
        }
        const entry: LookupRequest = {
          method: request.method ?? '',
          path: request.url ?? '',
          headers: request.headers,
          body,
          number,
        };
        received.push(entry);
        const send = (status: number, answer: unknown): void => {
          response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
        };
        if (twilio) {
          const expected = `Basic ${Buffer.from(`${options.accountSid}:${options.authToken}`).toString('base64')}`;
          if (request.headers.authorization !== expected) {
            refused.push(entry);
            return send(401, {
              code: 20003,
              message: 'Authenticate',
              more_info: 'https://www.twilio.com/docs/errors/20003',
              status: 401,
            });
          }
        } else if (url.pathname === '/sim-swap') {
          if (!signatureOk(options.webhookSecret, entry)) {
            refused.push(entry);
            return send(401, { error: 'bad signature' });
          }
        } else return send(404, { message: 'not found' });
        const record = fake.next.shift() ?? fake.everyNumber ?? records.get(number) ?? { swappedAt: null };
        if ('hang' in record) return; // never answers: the client's deadline must end it
        if ('status' in record) return send(record.status, { message: 'unavailable' });
        if (twilio) return send(200, twilioBody(number, record));
        if ('swappedAt' in record) return send(200, { swappedAt: record.swappedAt?.toISOString() ?? null });
        return send(200, {});
      });
    }),
    url: () => `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`,
    received,
    refused,
    records,
    everyNumber: undefined,
    next: [],
    start: () => new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve)),
    stop: () =>
      new Promise<void>((resolve) => {
        fake.server.closeAllConnections();
        fake.server.close(() => resolve());
      }),
  };
  return fake;
}
