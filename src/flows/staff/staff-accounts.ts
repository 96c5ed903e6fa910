// Staff members and their roles (SPEC §3.15). `support` finds accounts and helps owners without
// two-step verification; `admin` also runs the rollout, relying services, staff and the audit browser.
// The first admin is created on the server machine (`twostep admin create`); later members by an admin.
//
// A new member's password is generated (192 random bits) and shown once to whoever created them, so
// no chosen password travels through the console. The CLI also sets up the TOTP secret at once (the
// operator at the machine is the trusted channel); a member added in the console sets it up at first
// sign-in, before anything else is reachable.
import type { Clock } from '../../core/clock.ts';
import { AppError } from '../../core/errors.ts';
import { randomToken } from '../../core/tokens.ts';
import { newTotpSecret, totpUri } from '../../core/totp.ts';
import type { PasswordHasher } from '../../passwords/hasher.ts';
import type { Store } from '../../store/index.ts';
import type { StaffRole } from '../../store/schema.ts';
import type { StaffMember } from '../../store/staff.ts';
import { sealTotpSecret } from './staff-totp.ts';

export interface StaffDeps {
  store: Store;
  clock: Clock;
  config: { secret: string };
  hasher: PasswordHasher;
}

export const staffRoles: readonly StaffRole[] = ['support', 'admin'];

export function isStaffRole(value: unknown): value is StaffRole {
  return typeof value === 'string' && (staffRoles as readonly string[]).includes(value);
}

const EMAIL = /^[^\s@]{1,64}@[^\s@]+\.[^\s@]+$/;

function checkEmail(raw: string): string {
  const email = raw.trim().toLowerCase();
  if (email.length > 254 || !EMAIL.test(email) || /\p{C}/u.test(email)) throw new AppError('INVALID_EMAIL');
  return email;
}

function checkName(raw: string): string {
  const name = raw.trim().replace(/\s+/g, ' ');
  if (name.length < 1 || name.length > 100 || /\p{C}/u.test(name)) throw new AppError('INVALID_NAME');
  return name;
}

export interface NewStaff {
  member: StaffMember;
  /** Shown once. */
  password: string;
  /** Only when the TOTP secret was set up at creation (the CLI): shown once. */
  totp?: { secret: string; uri: string };
}

export async function createStaff(
  deps: StaffDeps,
  input: { email: string; name: string; role: StaffRole },
  actor: string,
  options: { setUpTotp?: boolean } = {},
): Promise<NewStaff> {
  const email = checkEmail(input.email);
  const name = checkName(input.name);
  if (!isStaffRole(input.role)) throw new AppError('VALIDATION_FAILED', { detail: { field: 'role' } });
  const password = randomToken(24);
  const now = deps.clock.now();
  const secret = options.setUpTotp ? newTotpSecret() : undefined;
  const member: StaffMember = {
    id: randomToken(16),
    email,
    name,
    role: input.role,
    password_hash: await deps.hasher.hash(password),
    totp_secret_sealed: secret ? sealTotpSecret(deps.config, secret) : null,
    totp_confirmed_at: secret ? now : null,
    created_at: now,
    created_by: actor,
    disabled_at: null,
  };
  await deps.store.transaction(async (tx) => {
    if (!(await tx.staff.create(member))) throw new AppError('EMAIL_TAKEN');
    await tx.audit.record({
      accountId: null,
      actor,
      event: 'staff.created',
      at: now,
      ip: null,
      userAgent: null,
      details: { staff: member.id, email, role: member.role, totpSetUp: secret !== undefined },
    });
  });
  return {
    member,
    password,
    ...(secret ? { totp: { secret, uri: totpUri(secret, email, 'Twostep console') } } : {}),
  };
}

export function listStaff(deps: { store: Store }): Promise<StaffMember[]> {
  return deps.store.staff.list();
}

/** The last enabled admin can neither lose the role nor be disabled: someone must be able to add staff. */
async function assertNotLastAdmin(tx: Store, member: StaffMember): Promise<void> {
  if (member.role === 'admin' && member.disabled_at === null && (await tx.staff.countActiveAdmins()) <= 1)
    throw new AppError('STAFF_LAST_ADMIN');
}

/** Changes a member's role; their sessions end, so the new role applies from their next sign-in. */
export async function changeStaffRole(deps: StaffDeps, id: string, role: StaffRole, actor: string): Promise<void> {
  if (!isStaffRole(role)) throw new AppError('VALIDATION_FAILED', { detail: { field: 'role' } });
  const now = deps.clock.now();
  await deps.store.transaction(async (tx) => {
    const member = await tx.staff.findById(id);
    if (!member || member.disabled_at !== null) throw new AppError('NOT_FOUND');
    if (member.role === role) return;
    if (role !== 'admin') await assertNotLastAdmin(tx, member);
    await tx.staff.setRole(id, role);
    await tx.staffSessions.revokeAllFor(id, now);
    await tx.audit.record({
      accountId: null,
      actor,
      event: 'staff.role_changed',
      at: now,
      ip: null,
      userAgent: null,
      details: { staff: id, from: member.role, to: role },
    });
  });
}

/** Disables a member: every session ends and the email can never sign in again. */
export async function disableStaff(deps: StaffDeps, id: string, actor: string): Promise<void> {
  const now = deps.clock.now();
  await deps.store.transaction(async (tx) => {
    const member = await tx.staff.findById(id);
    if (!member || member.disabled_at !== null) throw new AppError('NOT_FOUND');
    await assertNotLastAdmin(tx, member);
    await tx.staff.disable(id, now);
    const sessions = await tx.staffSessions.revokeAllFor(id, now);
    await tx.audit.record({
      accountId: null,
      actor,
      event: 'staff.disabled',
      at: now,
      ip: null,
      userAgent: null,
      details: { staff: id, sessionsRevoked: sessions },
    });
  });
}
