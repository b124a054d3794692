/** The admin-notes module's public surface (other modules import only this file). */
export { adminNotesRoutes } from './routes.js';
export { createNoteService, type NoteService } from './service.js';
export { NOTE_CATEGORIES, type NoteCategory, type NoteResponse } from './schemas.js';
