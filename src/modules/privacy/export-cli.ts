import { say, type CliCommands } from '../../cli/types.js';
import { purgeExpiredExports } from './export-service.js';

/** CLI commands of data export (spec operations.md §3). */
export const exportCommands: CliCommands = {
  'exports:purge': {
    help: 'remove export documents past their expiry (the request records stay)',
    run: async (_args, container) => {
      const { purged } = await purgeExpiredExports(await container());
      say(`expired export documents removed: ${String(purged)}`);
      return 0;
    },
  },
};
