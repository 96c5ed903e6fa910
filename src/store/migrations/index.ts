// The list of migrations, in order. A new migration is a new file added here; never edit a released one.
import type { Migration } from 'kysely/migration';
import * as accountsSessionsAudit from './0001-accounts-sessions-audit.ts';
import * as devicesChallenges from './0002-devices-challenges.ts';
import * as rollout from './0003-rollout.ts';
import * as twoStep from './0004-two-step.ts';
import * as waitingNotice from './0005-waiting-notice.ts';
import * as accountChanges from './0006-account-changes.ts';
import * as accountRecoveries from './0007-account-recoveries.ts';
import * as oidc from './0008-oidc.ts';
import * as appPasswords from './0009-app-passwords.ts';
import * as staff from './0010-staff.ts';
import * as authenticators from './0011-authenticators.ts';
import * as numberMatching from './0012-number-matching.ts';
import * as securityKeys from './0013-security-keys.ts';
import * as staffSecurityKeys from './0018-staff-security-keys.ts';

export const migrations: Record<string, Migration> = {
  '0001-accounts-sessions-audit': accountsSessionsAudit,
  '0002-devices-challenges': devicesChallenges,
  '0003-rollout': rollout,
  '0004-two-step': twoStep,
  '0005-waiting-notice': waitingNotice,
  '0006-account-changes': accountChanges,
  '0007-account-recoveries': accountRecoveries,
  '0008-oidc': oidc,
  '0009-app-passwords': appPasswords,
  '0010-staff': staff,
  '0011-authenticators': authenticators,
  '0012-number-matching': numberMatching,
  '0013-security-keys': securityKeys,
  '0018-staff-security-keys': staffSecurityKeys,
};
