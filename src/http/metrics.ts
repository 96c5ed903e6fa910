// Prometheus metrics at /metrics: process health, request counts and latencies by route and status,
// the flows' counters (flows/metrics.ts), and two gauges read at scrape time: devices connected to
// this node and hashes in flight on its thread pool. Labels use the route pattern, never the raw
// URL, so no token or id ever becomes a label.
// With METRICS_TOKEN set, scrapers must send it as a bearer token.
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Counter, collectDefaultMetrics, Gauge, Histogram } from 'prom-client';
import { AppError } from '../core/errors.ts';
import type { Services } from '../flows/context.ts';

function tokenMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from(header ?? '');
  const expected = Buffer.from(`Bearer ${token}`);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export function registerMetrics(app: FastifyInstance, services: Services): void {
  const { registry } = services.metrics;
  collectDefaultMetrics({ register: registry, prefix: 'twostep_' });
  const requests = new Counter({
    name: 'twostep_http_requests_total',
    help: 'HTTP requests by route and status',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'twostep_http_request_duration_seconds',
    help: 'HTTP request duration by route',
    labelNames: ['method', 'route'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });

  new Gauge({
    name: 'twostep_connected_devices',
    help: 'Device sockets open on this node',
    registers: [registry],
    collect() {
      this.set(services.hub.connectedCount());
    },
  });
  new Gauge({
    name: 'twostep_hashes_in_flight',
    help: 'argon2 hashes and verifications running on the thread pool or queued for it (above ARGON2_THREADS: queued)',
    registers: [registry],
    collect() {
      this.set(services.hasher.inFlight());
    },
  });

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    requests.inc({ method: request.method, route, status: String(reply.statusCode) });
    duration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });

  app.get(
    '/metrics',
    {
      schema: {
        tags: ['operations'],
        summary: 'Prometheus metrics (needs METRICS_TOKEN as a bearer token when it is set)',
      },
    },
    async (request, reply) => {
      const token = services.config.metricsToken;
      if (token && !tokenMatches(request.headers.authorization, token)) throw new AppError('UNAUTHENTICATED');
      return reply.type(registry.contentType).send(await registry.metrics());
    },
  );
}
