// The console's audit browser (SPEC §3.15): every audit event, filtered by account, actor, event and
// time, page by page or as CSV. Reading it is itself recorded (`staff.audit_exported` for a CSV), so
// staff cannot quietly copy the history out.
import { DAY } from '../../core/clock.ts';
import { AppError } from '../../core/errors.ts';
import type { StoredAuditEvent } from '../../store/audit.ts';
import type { AuditFilter } from '../../store/console-queries.ts';
import { origin, type RequestContext, type Services } from '../context.ts';
import { type StaffAuth, staffActor } from './staff-sessions.ts';

export const AUDIT_PAGE = 50;
export const AUDIT_CSV_LIMIT = 10_000;

export interface RawAuditFilter {
  account?: string;
  actor?: string;
  event?: string;
  from?: string;
  to?: string;
  before?: string;
}

function text(value: string | undefined, field: string, pattern: RegExp): string | undefined {
  const trimmed = value?.trim();
  if (!trimmed) return undefined;
  if (!pattern.test(trimmed)) throw new AppError('VALIDATION_FAILED', { detail: { field } });
  return trimmed;
}

const DAY_ONLY = /^\d{4}-\d{2}-\d{2}$/;

function date(value: string | undefined, field: string): { at: Date; dayOnly: boolean } | undefined {
  const trimmed = value?.trim();
  if (!trimmed) return undefined;
  // A day (YYYY-MM-DD, UTC) or a full ISO 8601 time.
  if (!/^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2}))?$/.test(trimmed))
    throw new AppError('VALIDATION_FAILED', { detail: { field } });
  const at = new Date(trimmed);
  if (Number.isNaN(at.getTime())) throw new AppError('VALIDATION_FAILED', { detail: { field } });
  return { at, dayOnly: DAY_ONLY.test(trimmed) };
}

/**
 * Both bounds include what they name: "from 3 May to 3 May" is the whole of 3 May (the console's
 * date inputs send days), and a full time includes that instant. The store's `to` is exclusive, so
 * a day becomes the next midnight and a time the next millisecond.
 */
function exclusiveEnd(bound: { at: Date; dayOnly: boolean }): Date {
  return new Date(bound.at.getTime() + (bound.dayOnly ? DAY : 1));
}

/** The filters of a query string, checked; VALIDATION_FAILED names the field that is wrong. */
export function parseAuditFilter(raw: RawAuditFilter, limit: number): AuditFilter {
  const accountId = text(raw.account, 'account', /^[A-Za-z0-9_-]{1,64}$/);
  const actor = text(raw.actor, 'actor', /^[a-z_]{1,20}(:[A-Za-z0-9_:-]{1,80})?$/);
  const event = text(raw.event, 'event', /^[a-z_]{1,40}(\.[a-z_]{0,40})?$/);
  const before = text(raw.before, 'before', /^[1-9]\d{0,17}$/);
  const from = date(raw.from, 'from')?.at;
  const end = date(raw.to, 'to');
  const to = end ? exclusiveEnd(end) : undefined;
  return {
    limit,
    ...(accountId ? { accountId } : {}),
    ...(actor ? { actor } : {}),
    ...(event ? { event } : {}),
    ...(before ? { beforeId: before } : {}),
    ...(from ? { from } : {}),
    ...(to ? { to } : {}),
  };
}

export function searchAudit(services: Services, filter: AuditFilter): Promise<StoredAuditEvent[]> {
  return services.store.console.searchAudit(filter);
}

/**
 * A CSV cell (RFC 4180): quoted, quotes doubled. A cell a spreadsheet would read as a formula
 * (= + - @, tab, carriage return at the start) gets a leading apostrophe: audit details hold text
 * typed by anyone (names, user agents), and an export must not run it (OWASP "CSV injection").
 */
export function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return `"${safe.replace(/"/g, '""')}"`;
}

export async function exportAuditCsv(
  services: Services,
  staff: StaffAuth,
  filter: AuditFilter,
  ctx: RequestContext,
): Promise<string> {
  const events = await searchAudit(services, { ...filter, limit: AUDIT_CSV_LIMIT });
  await services.store.audit.record({
    accountId: null,
    actor: staffActor(staff.member),
    event: 'staff.audit_exported',
    at: services.clock.now(),
    ...origin(ctx),
    details: {
      filter: { ...filter, from: filter.from?.toISOString(), to: filter.to?.toISOString() },
      rows: events.length,
    },
  });
  const header = ['id', 'at', 'event', 'account', 'actor', 'ip', 'user_agent', 'details'];
  const rows = events.map((e) =>
    [
      e.id,
      e.at.toISOString(),
      e.event,
      e.accountId ?? '',
      e.actor,
      e.ip ?? '',
      e.userAgent ?? '',
      JSON.stringify(e.details),
    ]
      .map(csvCell)
      .join(','),
  );
  return `${[header.map(csvCell).join(','), ...rows].join('\r\n')}\r\n`;
}
