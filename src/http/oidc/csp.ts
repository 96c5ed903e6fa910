// The strict CSP says `form-action 'self'`, and browsers also check the redirects that follow a form
// submission against it (CSP 3 §6.3.1). A sign-in or sign-out form here ends in a redirect to the
// service, so those pages allow exactly that service's origin as well, and nothing else.
import type { FastifyReply } from 'fastify';
import type { KoaContextWithOIDC } from 'oidc-provider';

function origins(urls: readonly string[]): string[] {
  const found = new Set<string>();
  for (const url of urls) {
    const parsed = URL.parse(url);
    if (parsed && (parsed.protocol === 'https:' || parsed.protocol === 'http:')) found.add(parsed.origin);
  }
  return [...found];
}

export function addFormTargets(policy: string, urls: readonly string[]): string {
  const extra = origins(urls);
  if (extra.length === 0) return policy;
  return policy.replace(
    /form-action ([^;]*)/,
    (_whole, sources: string) => `form-action ${sources} ${extra.join(' ')}`,
  );
}

/** On a page oidc-provider renders (the header was set by helmet on the raw response). */
export function withFormTargets(ctx: KoaContextWithOIDC, urls: readonly string[]): void {
  const policy = ctx.response.get('content-security-policy');
  if (policy) ctx.set('content-security-policy', addFormTargets(policy, urls));
}

/** On one of our interaction pages. */
export function replyWithFormTargets(reply: FastifyReply, urls: readonly string[]): void {
  const policy = reply.getHeader('content-security-policy') ?? reply.raw.getHeader('content-security-policy');
  if (typeof policy === 'string') reply.header('content-security-policy', addFormTargets(policy, urls));
}
