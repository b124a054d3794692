/** The admin-notes module's public face. */
export { adminNotesRoutes } from './routes.js';
export { createNoteService, type NoteService, type NoteServiceDeps } from './service.js';
