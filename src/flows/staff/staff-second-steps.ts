// What a staff member can answer the second step of a console sign-in with (SPEC §3.15: staff must use
// two-step verification): a confirmed authenticator app (TOTP) or a security key. A member with
// neither enters nothing: after the password they can only set up the authenticator.
import type { StaffMember } from '../../store/staff.ts';
import type { StaffSecurityKey } from '../../store/staff-security-keys.ts';
import type { Services } from '../context.ts';

export interface StaffSecondSteps {
  totp: boolean;
  keys: StaffSecurityKey[];
}

export async function staffSecondSteps(services: Services, member: StaffMember): Promise<StaffSecondSteps> {
  return {
    totp: member.totp_confirmed_at !== null,
    keys: await services.store.staffSecurityKeys.listForStaff(member.id),
  };
}

export function hasSecondStep(steps: StaffSecondSteps): boolean {
  return steps.totp || steps.keys.length > 0;
}

/** The ids of those of `members` who have a second step (for the admin's staff list). */
export async function membersWithSecondStep(services: Services, members: StaffMember[]): Promise<Set<string>> {
  const ready = new Set<string>();
  for (const member of members) if (hasSecondStep(await staffSecondSteps(services, member))) ready.add(member.id);
  return ready;
}
