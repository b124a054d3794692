import type { CliCommands } from '../../cli/command.js';
import { exportCommands } from './export/cli.js';
import { policyCommands } from './policy/cli.js';
import { retentionCommands } from './retention/cli.js';
import type { PrivacyServices } from './routes.js';

/** Every CLI command of the privacy module (docs/operations.md#command-line), built from its services. */
export const privacyCommands: CliCommands<PrivacyServices> = {
  ...policyCommands,
  ...exportCommands,
  ...retentionCommands,
};
