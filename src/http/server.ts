// Builds the Fastify server: security headers, cookies, forms, OpenAPI, error contract, and every route.
import { fileURLToPath } from 'node:url';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import helmet from '@fastify/helmet';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import websocket from '@fastify/websocket';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { LoggerOptions } from 'pino';
import type { Services } from '../flows/context.ts';
import { registerAccountApi } from './api/account-api.ts';
import { registerAppPasswordApi } from './api/app-password-api.ts';
import { registerAuthenticatorApi } from './api/authenticator-api.ts';
import { registerChallengeApi } from './api/challenge-api.ts';
import { registerDeviceApi } from './api/device-api.ts';
import { registerMeApi } from './api/me-api.ts';
import { registerNotMeApi } from './api/not-me-api.ts';
import { registerNumberMatchingApi } from './api/number-matching-api.ts';
import { registerRecoveryApi } from './api/recovery-api.ts';
import { ErrorBody } from './api/schemas.ts';
import { registerSecurityKeyApi } from './api/security-key-api.ts';
import { registerTwoStepApi } from './api/two-step-api.ts';
import { registerConsole } from './console/index.ts';
import { isSecureDeployment } from './cookies.ts';
import { registerOriginCheck } from './csrf.ts';
import { registerDeviceSocket } from './device-socket.ts';
import { registerErrorHandling, sendFrameworkError } from './errors.ts';
import { registerHealth } from './health.ts';
import { registerMetrics } from './metrics.ts';
import { mountOidc, registerOidcInteractions } from './oidc/index.ts';
import { registerAccountPages } from './pages/account-pages.ts';
import { registerAppPasswordPages } from './pages/app-password-pages.ts';
import { registerAuthenticatorPages } from './pages/authenticator-pages.ts';
import { registerDevicePage } from './pages/device-page.ts';
import { registerEmailChangePages } from './pages/email-change-pages.ts';
import { registerEnrolmentPages } from './pages/enrolment-pages.ts';
import { registerForgotPasswordPages } from './pages/forgot-password-pages.ts';
import { registerLanguagePage } from './pages/language-page.ts';
import { registerNotMePage } from './pages/not-me-page.ts';
import { registerOutbox } from './pages/outbox-page.ts';
import { registerPhonePages } from './pages/phone-pages.ts';
import { registerPublicPages } from './pages/public-pages.ts';
import { registerRecoveryKeyPages } from './pages/recovery-key-pages.ts';
import { registerRecoverySignInPages } from './pages/recovery-sign-in-pages.ts';
import { registerRecoveryKeyDownload } from './pages/recovery-views.ts';
import { registerSecurityKeyPages } from './pages/security-key-pages.ts';
import { registerTwoStepPages } from './pages/two-step-pages.ts';
import { registerRequestContext } from './request-context.ts';
import { registerVendorScripts } from './vendor-scripts.ts';

declare module 'fastify' {
  interface FastifyInstance {
    services: Services;
  }
}

/** Logged request lines keep the path but never the query string: it may carry a token. */
/**
 * Logged request lines never carry a token: the query string is dropped, and path segments that look
 * like one (challenge and session ids are bearer secrets) are masked.
 */
function requestSerializer(request: { method: string; url: string; ip?: string }): Record<string, unknown> {
  const [path = '', query] = request.url.split('?');
  const masked = path.replace(/\/[A-Za-z0-9_-]{20,}(?=\/|$)/g, '/[id]');
  return { method: request.method, url: query === undefined ? masked : `${masked}?[redacted]`, ip: request.ip };
}

export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    serializers: { req: requestSerializer },
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]', '*.password', '*.token'],
      censor: '[redacted]',
    },
  };
}

export async function buildServer(services: Services): Promise<FastifyInstance> {
  const { config } = services;
  const app = Fastify({
    loggerInstance: services.log as FastifyBaseLogger,
    bodyLimit: config.bodyLimitBytes,
    trustProxy: config.trustProxy,
    return503OnClosing: true,
    routerOptions: { maxParamLength: 200 },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } },
    // Malformed URLs are refused by the router before any hook: answer them in the error contract too.
    frameworkErrors: sendFrameworkError,
  });
  app.decorate('services', services);

  const secure = isSecureDeployment(config);
  await app.register(helmet, {
    // Strict CSP for every page: no inline script or style, nothing from elsewhere (SECURITY.md; DESIGN.md convention 11).
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
        objectSrc: ["'none'"],
        ...(secure ? { upgradeInsecureRequests: [] } : {}),
      },
    },
    hsts: secure ? { maxAge: 31536000, includeSubDomains: true } : false,
    referrerPolicy: { policy: 'no-referrer' },
    frameguard: { action: 'deny' },
  });
  await app.register(cookie);
  await app.register(websocket, { options: { maxPayload: 64 * 1024 } });
  await app.register(formbody, { bodyLimit: config.bodyLimitBytes });
  await app.register(fastifyStatic, {
    root: fileURLToPath(new URL('../../public', import.meta.url)),
    prefix: '/static/',
    maxAge: '1h',
  });
  registerVendorScripts(app);

  app.addSchema(ErrorBody);
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Twostep API',
        version: '1',
        description:
          'Account security: accounts, sessions and two-step verification. Errors are `{"error": {"code", "message"}}`.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'the session token from sign-in' },
          device: {
            type: 'apiKey',
            in: 'header',
            name: 'authorization',
            description: '`Device <credential>`: the credential a device got at pairing',
          },
          basic: {
            type: 'http',
            scheme: 'basic',
            description: 'email and app-specific password, for the legacy-client check only',
          },
          cookie: {
            type: 'apiKey',
            in: 'cookie',
            name: 'twostep_session',
            description: 'the session cookie (`__Host-twostep_session` over https)',
          },
        },
      },
    },
  });
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    staticCSP: true,
    // The UI's own CSP, minus the upgrade to https on a plain-http development server.
    transformStaticCSP: (header: string) => (secure ? header : header.replace('upgrade-insecure-requests;', '')),
  });

  // Nothing Twostep answers may be kept by a cache unless the route says otherwise (static files do):
  // pages and API answers carry accounts, sessions and codes.
  app.addHook('onSend', async (_request, reply) => {
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
  });
  registerErrorHandling(app);
  // Before the Origin check: the OpenID Connect endpoints are cross-origin by design (oidc/index.ts).
  const oidc = await mountOidc(app, services);
  registerOriginCheck(app, config);
  registerRequestContext(app, services);
  registerHealth(app, services);
  registerMetrics(app, services);
  registerAccountApi(app, services);
  registerMeApi(app, services);
  registerNotMeApi(app, services);
  registerDeviceApi(app, services);
  registerChallengeApi(app, services);
  registerTwoStepApi(app, services);
  registerAuthenticatorApi(app, services);
  registerSecurityKeyApi(app, services);
  registerRecoveryApi(app, services);
  registerNumberMatchingApi(app, services);
  registerAppPasswordApi(app, services);
  registerDeviceSocket(app, services);
  registerTwoStepPages(app, services);
  registerPublicPages(app, services);
  registerForgotPasswordPages(app, services);
  registerRecoverySignInPages(app, services);
  registerRecoveryKeyDownload(app);
  registerAccountPages(app, services);
  registerEmailChangePages(app, services);
  registerAppPasswordPages(app, services);
  registerAuthenticatorPages(app, services);
  registerSecurityKeyPages(app, services);
  registerNotMePage(app, services);
  registerEnrolmentPages(app, services);
  registerPhonePages(app, services);
  registerRecoveryKeyPages(app, services);
  registerDevicePage(app, services);
  registerLanguagePage(app, services);
  registerOidcInteractions(app, services, oidc);
  registerConsole(app, services);
  if (services.mailer.kind === 'outbox' && config.env !== 'production') registerOutbox(app, services);
  return app;
}
