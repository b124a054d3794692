/** The admin-notes module's public face. */
export { adminNotesRoutes } from './routes.js';
export { noteSealedTable } from './reseal.js';
export { createNoteService, type NoteService, type NoteServiceDeps } from './service.js';
