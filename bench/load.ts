// The load generator of `npm run bench` (bench/README.md): a closed loop of `concurrency` workers, each
// running one operation after the other for a fixed time; a warm-up at the start is not counted. Every
// system under test (Twostep, Better Auth) is driven through the same loop, so both are measured alike.
import http from 'node:http';

export interface Measured {
  /** Operations that finished inside the measured window, per second of that window. */
  perSecond: number;
  count: number;
  failed: number;
  p50: number;
  p99: number;
  firstError?: string;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

/** Runs `operation(worker)` in `concurrency` loops for warmup + seconds; counts only the last `seconds`. */
export async function runFor(
  options: { concurrency: number; seconds: number; warmup: number },
  operation: (worker: number) => Promise<void>,
): Promise<Measured> {
  const started = performance.now();
  const measureFrom = started + options.warmup * 1000;
  const end = measureFrom + options.seconds * 1000;
  const latencies: number[] = [];
  let failed = 0;
  let firstError: string | undefined;
  const worker = async (index: number): Promise<void> => {
    while (performance.now() < end) {
      const t0 = performance.now();
      try {
        await operation(index);
        const t1 = performance.now();
        if (t0 >= measureFrom && t1 <= end) latencies.push(t1 - t0);
      } catch (error) {
        failed += 1;
        firstError ??= error instanceof Error ? error.message : String(error);
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, (_, i) => worker(i)));
  latencies.sort((a, b) => a - b);
  return {
    perSecond: latencies.length / options.seconds,
    count: latencies.length,
    failed,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    ...(firstError ? { firstError } : {}),
  };
}

/** Runs every item once with `concurrency` in flight; the rate is items over the whole time. */
export async function runAll<T>(
  items: T[],
  concurrency: number,
  operation: (item: T) => Promise<void>,
): Promise<Measured> {
  const latencies: number[] = [];
  let failed = 0;
  let firstError: string | undefined;
  let next = 0;
  const started = performance.now();
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      const t0 = performance.now();
      try {
        await operation(item);
        latencies.push(performance.now() - t0);
      } catch (error) {
        failed += 1;
        firstError ??= error instanceof Error ? error.message : String(error);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, () => worker()));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    perSecond: latencies.length / seconds,
    count: latencies.length,
    failed,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    ...(firstError ? { firstError } : {}),
  };
}

export interface Answer {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
}

/** A keep-alive HTTP/1.1 client: node:http directly, cheaper per request than fetch on a 2-core machine. */
export function httpClient(baseUrl: string, maxSockets: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets });
  const base = new URL(baseUrl);
  return {
    request(method: string, path: string, options: { headers?: Record<string, string>; json?: unknown } = {}) {
      const body = options.json === undefined ? undefined : JSON.stringify(options.json);
      return new Promise<Answer>((resolve, reject) => {
        const req = http.request(
          {
            agent,
            host: base.hostname,
            port: base.port,
            method,
            path,
            headers: {
              ...(body === undefined
                ? {}
                : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }),
              ...options.headers,
            },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), headers: res.headers }),
            );
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    },
    close: () => agent.destroy(),
  };
}
