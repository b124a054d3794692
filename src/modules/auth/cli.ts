import { parseArgs, type ParseArgsConfig } from 'node:util';
import { say, type CliCommands } from '../../cli/command.js';
import type { AuthAdminService } from './cli-service.js';

const usage = (message: string) => {
  process.stderr.write(`${message}\n`);
  return 2;
};
const notFound = (message: string) => {
  process.stderr.write(`${message}\n`);
  return 1;
};
const NO_USER = 'no account with that e-mail';
const NO_SESSION = 'no session with that key';

/** Parses string flags; undefined (after printing the problem) on a malformed command line. */
function flags<K extends string>(
  args: string[],
  names: readonly K[],
): Partial<Record<K, string>> | undefined {
  const options: ParseArgsConfig['options'] = {};
  for (const n of names) options[n] = { type: 'string' };
  try {
    const { values } = parseArgs({ args, options, allowPositionals: false });
    const out: Partial<Record<K, string>> = {};
    for (const n of names) {
      const v = values[n];
      if (typeof v === 'string' && v.trim() !== '') out[n] = v;
    }
    return out;
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return undefined;
  }
}

/** What the commands need, from the root (src/cli.ts): the container provides it. */
export interface AuthCliDeps {
  authAdmin: AuthAdminService;
}

/** CLI commands of the auth module (docs/operations.md#command-line); all audited as `system`. */
export const authCommands: CliCommands<AuthCliDeps> = {
  'users:reset-2fa': {
    help: '--email E  emergency recovery: turn 2FA off and end all sessions (staff must enrol again at login)',
    run: async (args, open) => {
      const f = flags(args, ['email']);
      if (!f?.email) return usage('usage: users:reset-2fa --email E');
      const result = await (await open()).authAdmin.resetTwoFactor(f.email);
      if (!result.found) return notFound(NO_USER);
      say(
        `2FA ${result.wasEnabled ? 'turned off' : 'was not enabled; state cleared'} for user ${result.user.id}; ` +
          `sessions ended: ${result.ended}`,
      );
      if (result.user.role !== 'candidate') say('staff account: 2FA setup is required at the next login');
      return 0;
    },
  },
  'sessions:revoke': {
    help: '--email E | --session-key K  end all sessions of a user, or one session',
    run: async (args, open) => {
      const f = flags(args, ['email', 'session-key']);
      const email = f?.email;
      const key = f?.['session-key'];
      if (!f || (email === undefined) === (key === undefined))
        return usage('usage: sessions:revoke --email E | --session-key K (exactly one)');
      const svc = (await open()).authAdmin;
      if (email !== undefined) {
        const result = await svc.revokeUserSessions(email);
        if (!result.found) return notFound(NO_USER);
        say(`sessions ended: ${result.ended} (user ${result.user.id})`);
        return 0;
      }
      const result = await svc.revokeSession(key ?? '');
      if (!result.found) return notFound(NO_SESSION);
      say(
        `sessions ended: ${result.ended} (session ${result.session.id}, user ${result.session.userId}` +
          `${result.ended === 0 ? ', had already ended' : ''})`,
      );
      return 0;
    },
  },
  'sessions:mark-suspicious': {
    help: '--session-key K  flag a session as suspicious',
    run: async (args, open) => {
      const f = flags(args, ['session-key']);
      const key = f?.['session-key'];
      if (key === undefined) return usage('usage: sessions:mark-suspicious --session-key K');
      const result = await (await open()).authAdmin.markSuspicious(key);
      if (!result.found) return notFound(NO_SESSION);
      const s = result.session;
      say(
        `session ${s.id} (user ${s.userId}, ${s.deviceType} / ${s.browser} / ${s.os}` +
          `${s.terminatedAt ? ', ended' : ''}) is_suspicious: ${String(s.isSuspicious)}`,
      );
      return 0;
    },
  },
  '2fa:invalidate-backup-codes': {
    help: '--email E  mark all unused 2FA backup codes of a user used',
    run: async (args, open) => {
      const f = flags(args, ['email']);
      if (!f?.email) return usage('usage: 2fa:invalidate-backup-codes --email E');
      const result = await (await open()).authAdmin.invalidateBackupCodes(f.email);
      if (!result.found) return notFound(NO_USER);
      say(`backup codes invalidated: ${result.invalidated} (user ${result.user.id})`);
      return 0;
    },
  },
};
