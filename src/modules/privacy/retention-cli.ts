import type { CliCommands } from '../../cli/types.js';

/** CLI commands of this module (spec operations.md §3). */
export const retentionCommands: CliCommands = {};
