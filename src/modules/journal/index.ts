/** The journal module's public face. `openEntry` decrypts an entry for the data export. */
export { journalRoutes } from './routes.js';
export { createJournalService, type JournalService, type JournalServiceDeps } from './service.js';
export { openEntry } from './serialize.js';
export { journalSealedTable } from './reseal.js';
