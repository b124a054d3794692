import { parseArgs } from 'node:util';
import { type CliCommands, say } from '../../cli/command.js';
import type { AuditChainService } from './chain-service.js';

const usage = (message: string) => {
  process.stderr.write(`${message}\n`);
  return 2;
};

/** What the audit commands use (src/cli.ts passes the services lazily). */
export interface AuditCliServices {
  auditChain: AuditChainService;
}

/** CLI commands of this module (docs/operations.md#command-line); audited as `system`. */
export const auditCommands: CliCommands<AuditCliServices> = {
  'audit:verify': {
    help: 'walk the audit log hash chain; exit 1 at the first broken link',
    run: async (args, open) => {
      parseArgs({ args, options: {} });
      const { auditChain } = await open();
      const result = await auditChain.verify();
      if (result.ok) {
        say(`audit chain intact: ${String(result.checked)} entries`);
        return 0;
      }
      const broken = result.firstBroken;
      say(
        `audit chain BROKEN at seq ${String(broken?.seq ?? 'none')} (id ${String(broken?.id)}): ${broken?.problem ?? 'unknown'}`,
      );
      return 1;
    },
  },

  'audit:purge': {
    help: '[--retention-days N] [--dry-run] [--yes]  delete audit entries older than the retention (default AUDIT_LOG_RETENTION_DAYS)',
    run: async (args, open) => {
      const { values } = parseArgs({
        args,
        options: {
          'retention-days': { type: 'string' },
          'dry-run': { type: 'boolean', default: false },
          yes: { type: 'boolean', default: false },
        },
      });
      const raw = values['retention-days'];
      if (raw !== undefined && (!/^\d{1,6}$/.test(raw.trim()) || Number(raw) < 1)) {
        return usage(`--retention-days must be a whole number of at least 1, got "${raw}"`);
      }
      const { auditChain } = await open();
      const confirmed = values.yes && !values['dry-run'];
      const result = await auditChain.purge({
        retentionDays: raw === undefined ? undefined : Number(raw),
        dryRun: !confirmed,
      });
      const what = `entries older than ${result.cutoff.toISOString()} (retention ${String(result.retentionDays)} days)`;
      if (confirmed) {
        say(`deleted ${String(result.deleted)} audit ${what}`);
        if (result.firstKeptSeq !== null) say(`the chain now starts at seq ${String(result.firstKeptSeq)}`);
        return 0;
      }
      if (values['dry-run']) {
        say(`dry run: would delete ${String(result.deleted)} audit ${what}; nothing was changed`);
        return 0;
      }
      // No interactive confirmation (CI and jobs have no stdin): refuse without --yes.
      say(`would delete ${String(result.deleted)} audit ${what}`);
      process.stderr.write('refusing to delete without --yes (or use --dry-run)\n');
      return 2;
    },
  },
};
