// "Sign-in from a new device/browser" notices (SPEC §3.17) for every sign-in, not only the ones with
// a code. A browser carries a random marker (an HttpOnly cookie; http/known-browser-cookie.ts) and the
// account keeps the SHA-256 of each marker it signed in with. A password sign-in from a browser the
// account does not know emails the owner; a known one does not. A code sign-in already sends its own
// notice (sign-in.ts), so it only marks the browser as known.
//
// The JSON API works the same way: the marker comes and goes as the same cookie. A client that keeps
// no cookies is a new browser at every sign-in, and the owner hears of each one.
import { DAY } from '../core/clock.ts';
import { randomToken, sha256 } from '../core/tokens.ts';
import type { Account } from '../store/accounts.ts';
import type { RequestContext, Services } from './context.ts';
import { notifyOwner } from './notify.ts';
import { requestOrigin } from './request-origin.ts';

const MARKER_SHAPE = /^[A-Za-z0-9_-]{43}$/;

/** A marker of the right shape, or undefined (a missing or mangled cookie is a new browser). */
function validMarker(marker: string | undefined): string | undefined {
  return marker !== undefined && MARKER_SHAPE.test(marker) ? marker : undefined;
}

/**
 * Records a successful sign-in from this browser and returns the marker it should keep (its own, or a
 * new one). With `notify: 'if-new'` the owner is emailed when the account did not know the browser.
 */
export async function noteSignInBrowser(
  services: Services,
  account: Account,
  marker: string | undefined,
  ctx: RequestContext,
  options: { notify: 'if-new' | 'never' },
): Promise<string> {
  const { store, clock, config } = services;
  const now = clock.now();
  const kept = validMarker(marker) ?? randomToken(32);
  const browserHash = sha256(kept);
  const since = new Date(now.getTime() - config.policy.knownBrowserDays * DAY);
  // Whether the account knew the browser matters only for the notice: without one, no need to ask.
  const known = options.notify === 'never' || (await store.knownBrowsers.isKnown(account.id, browserHash, since));
  await store.knownBrowsers.remember({ accountId: account.id, browserHash, userAgent: ctx.userAgent }, now);
  if (!known) {
    const where = requestOrigin(ctx.ip, ctx.userAgent, now);
    // The session stands even if the mail relay is down; the failure is logged, not hidden.
    await notifyOwner(services, account, 'newBrowserSignIn', {
      browser: where.browser,
      ip: where.ip,
      place: where.place,
    }).catch((error: unknown) =>
      services.log.warn({ err: error, account: account.id }, 'new browser sign-in notice could not be sent'),
    );
  }
  return kept;
}
