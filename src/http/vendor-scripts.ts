// Browser libraries served from the project's own node_modules under /static/, so pages load them from
// this origin (strict CSP: script-src 'self') and no CDN is ever involved.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';

const VENDOR_SCRIPTS: Record<string, string> = {
  // navigator.credentials with JSON options and answers (WebAuthn), as window.SimpleWebAuthnBrowser.
  'webauthn-browser.js': '@simplewebauthn/browser/dist/bundle/index.umd.min.js',
};

export function registerVendorScripts(app: FastifyInstance): void {
  for (const [name, path] of Object.entries(VENDOR_SCRIPTS)) {
    const source = readFileSync(fileURLToPath(new URL(`../../node_modules/${path}`, import.meta.url)));
    app.get(`/static/${name}`, { schema: { hide: true } }, (_request, reply) =>
      reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=3600').send(source),
    );
  }
}
