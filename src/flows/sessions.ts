// Sessions (SPEC §2, SECURITY.md items 27–30): an opaque `id.secret` token, only its hash stored,
// a new one at every sign-in, ended by sign-out, revocation, idle time or absolute age.
import { HOUR, MINUTE } from '../core/clock.ts';
import { isSessionLive, type SessionLimits, sessionExpiresAt } from '../core/session-policy.ts';
import { issueToken, isTokenId, secretMatches, splitToken } from '../core/tokens.ts';
import type { Account } from '../store/accounts.ts';
import type { Store } from '../store/index.ts';
import type { SessionAssurance } from '../store/schema.ts';
import type { TrustedFactors } from '../store/second-factors.ts';
import type { SessionRow } from '../store/sessions.ts';
import { origin, type RequestContext, type Services } from './context.ts';
import type { CachedSession, SessionMemo } from './session-cache.ts';

export interface AuthenticatedSession {
  session: SessionRow;
  account: Account;
  expiresAt: Date;
  /** Set when the session came from, or went into, this node's session cache. */
  memo?: SessionMemo;
}

// Writing last-seen on every request would make every read a write; a minute's precision is enough for a 60-minute idle limit.
const TOUCH_EVERY_MS = MINUTE;

export function sessionLimits(services: Services): SessionLimits {
  return {
    idleMs: services.config.policy.sessionIdleMinutes * MINUTE,
    absoluteMs: services.config.policy.sessionAbsoluteHours * HOUR,
  };
}

/** Creates a session inside the caller's transaction and records `session.created`; returns the token (shown once). */
export async function startSession(
  services: Services,
  tx: Store,
  account: Account,
  assurance: SessionAssurance,
  ctx: RequestContext,
): Promise<{ token: string; id: string }> {
  const now = services.clock.now();
  const issued = issueToken();
  await tx.sessions.create({
    id: issued.id,
    account_id: account.id,
    secret_hash: issued.secretHash,
    assurance,
    created_at: now,
    last_seen_at: now,
    verified_at: now,
    revoked_at: null,
    ip: ctx.ip,
    user_agent: ctx.userAgent,
  });
  await tx.audit.record({
    accountId: account.id,
    actor: `account:${account.id}`,
    event: 'session.created',
    at: now,
    ...origin(ctx),
    details: { session: issued.id, assurance },
  });
  return { token: issued.token, id: issued.id };
}

/** The session and account behind a token, or undefined for anything else: malformed, unknown, revoked, expired, disabled. */
export async function authenticate(
  services: Services,
  token: string | undefined,
): Promise<AuthenticatedSession | undefined> {
  const parts = token ? splitToken(token) : undefined;
  if (!parts) return undefined;
  const cache = services.sessionCache;
  const slot = cache?.lookup(parts.id);
  // The revision is read before the database, on every request: what was cached under it is used only
  // while it has not moved, so a revoked session fails on its very next request, on any node.
  const read = slot ? await currentRevision(services, slot.accountId) : undefined;
  const revision = read ?? undefined;
  const now = services.clock.now();
  const cached = slot?.cached;
  if (
    cached &&
    revision !== undefined &&
    cached.revision === revision &&
    now.getTime() - cached.readAt < (cache?.maxAgeMs ?? 0)
  ) {
    if (!secretMatches(parts.secret, cached.session.secret_hash)) return undefined;
    services.metrics.sessionCheck('hit');
    return liveSession(services, { ...cached.session }, { ...cached.account }, now, cached);
  }
  if (cache) services.metrics.sessionCheck(read === null ? 'unavailable' : 'miss');
  const found = await services.store.sessions.findActiveWithAccount(parts.id);
  if (!found) {
    cache?.forget(parts.id);
    return undefined;
  }
  if (!secretMatches(parts.secret, found.session.secret_hash)) return undefined;
  let entry: CachedSession | undefined;
  if (cache && revision !== undefined && slot?.accountId === found.account.id) {
    entry = { revision, session: { ...found.session }, account: { ...found.account }, readAt: now.getTime(), memo: {} };
    cache.store(parts.id, entry);
  } else cache?.rememberAccount(parts.id, found.account.id);
  return liveSession(services, found.session, found.account, now, entry);
}

/**
 * The account's revision; undefined while a change is under way; null when the key-value store is
 * away. In both cases the database is read and nothing is cached.
 */
async function currentRevision(services: Services, accountId: string): Promise<string | undefined | null> {
  try {
    return await services.revisions.current(accountId);
  } catch {
    // Nothing cached can be trusted once revisions are readable again (a change may have been made
    // meanwhile that this node never heard of): start over, and read the database until then.
    services.sessionCache?.clear();
    return null;
  }
}

async function liveSession(
  services: Services,
  session: SessionRow,
  account: Account,
  now: Date,
  entry: CachedSession | undefined,
): Promise<AuthenticatedSession | undefined> {
  const limits = sessionLimits(services);
  if (!isSessionLive({ createdAt: session.created_at, lastSeenAt: session.last_seen_at }, limits, now))
    return undefined;
  if (account.state === 'disabled') return undefined;
  if (now.getTime() - session.last_seen_at.getTime() >= TOUCH_EVERY_MS) {
    await services.store.sessions.touch(session.id, now);
    session.last_seen_at = now;
    if (entry) entry.session.last_seen_at = now;
  }
  return {
    session,
    account,
    expiresAt: sessionExpiresAt({ createdAt: session.created_at, lastSeenAt: session.last_seen_at }, limits),
    ...(entry ? { memo: entry.memo } : {}),
  };
}

/** What GET /api/v1/me shows of the second steps: from the session's cache entry while its revision holds. */
export async function trustedFactorsOf(services: Services, auth: AuthenticatedSession): Promise<TrustedFactors> {
  if (auth.memo?.trusted) return auth.memo.trusted;
  const trusted = await services.store.secondFactors.trustedOf(auth.account.id);
  if (auth.memo) auth.memo.trusted = trusted;
  return trusted;
}

export interface SessionView {
  id: string;
  current: boolean;
  createdAt: Date;
  lastSeenAt: Date;
  ip: string | null;
  userAgent: string | null;
  assurance: SessionAssurance;
}

export async function listSessions(services: Services, auth: AuthenticatedSession): Promise<SessionView[]> {
  const now = services.clock.now();
  const limits = sessionLimits(services);
  const rows = await services.store.sessions.listActive(auth.account.id);
  return rows
    .filter((row) => isSessionLive({ createdAt: row.created_at, lastSeenAt: row.last_seen_at }, limits, now))
    .map((row) => ({
      id: row.id,
      current: row.id === auth.session.id,
      createdAt: row.created_at,
      lastSeenAt: row.last_seen_at,
      ip: row.ip,
      userAgent: row.user_agent,
      assurance: row.assurance,
    }));
}

/** Revokes one of the account's sessions (its own or another); false when there is no such live session. */
export async function revokeSession(
  services: Services,
  auth: AuthenticatedSession,
  sessionId: string,
  ctx: RequestContext,
): Promise<boolean> {
  // An id of the wrong shape names no session, and must not reach the database as is: a NUL byte
  // in a path parameter made PostgreSQL fail the query, which came back as a 500.
  if (!isTokenId(sessionId)) return false;
  const now = services.clock.now();
  const event = sessionId === auth.session.id ? 'session.ended' : 'session.revoked';
  return services.store.transaction(async (tx) => {
    const revoked = await tx.sessions.revoke(auth.account.id, sessionId, now);
    if (revoked)
      await tx.audit.record({
        accountId: auth.account.id,
        actor: `account:${auth.account.id}`,
        event,
        at: now,
        ...origin(ctx),
        details: { session: sessionId },
      });
    return revoked;
  });
}

export async function signOut(services: Services, auth: AuthenticatedSession, ctx: RequestContext): Promise<void> {
  await revokeSession(services, auth, auth.session.id, ctx);
}
