import type { FastifyInstance } from 'fastify';
import { pageLinkOf } from '../../plugins/request-context.js';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ID_PARAM, idParams } from '../../lib/validation.js';
import { ALL_ROLES, STAFF, actorOf } from '../../plugins/auth.js';
import { deniedAudit } from '../audit/index.js';
import { candidateParams, NotePage, NoteListQuery, NoteResponse } from './schemas.js';
import type { NoteService } from './service.js';

// The body is validated by the service: a candidate's create or change is refused with its 403
// before the body is looked at (docs/contract.md#original-differences item 30), and `candidate` is checked against the database.
const NoteBodyDoc = z
  .unknown()
  .describe(
    '{candidate, category, title, content, is_important?, tags?}. Tags are NOT encrypted: never put health details in them.',
  );

/** Admin notes (docs/contract.md#admin-notes, docs/contract.md#permission-table): declare, validate, delegate. */
export function adminNotesRoutes({ notes }: { notes: NoteService }) {
  return async (app: FastifyInstance) => {
    const r = app.withTypeProvider<ZodTypeProvider>();
    const tags = ['admin-notes'];
    const path = `/admin-notes/${ID_PARAM}/`;

    r.get(
      '/admin-notes/',
      {
        config: { auth: ALL_ROLES },
        schema: {
          tags,
          summary: 'List notes (staff: all; candidates: notes about themselves)',
          querystring: NoteListQuery,
          response: { 200: NotePage },
        },
      },
      async (req) => notes.list(pageLinkOf(req), req.query, actorOf(req), req.meta),
    );

    r.post(
      '/admin-notes/',
      {
        // The gate refuses candidates before validation, with the original's message.
        config: { auth: STAFF, deniedMessage: 'Only admins can create notes.' },
        schema: {
          tags,
          summary: 'Create a note (staff)',
          body: NoteBodyDoc,
          response: { 201: NoteResponse },
        },
      },
      async (req, reply) => reply.code(201).send(await notes.create(actorOf(req), req.meta, req.body)),
    );

    r.get(
      '/admin-notes/candidate/:candidate_id(^\\d{1,15}$)/',
      {
        config: { auth: STAFF },
        schema: {
          tags,
          summary: 'List the notes about one candidate (staff)',
          params: candidateParams,
          querystring: NoteListQuery,
          response: { 200: NotePage },
        },
      },
      async (req) => notes.list(pageLinkOf(req), req.query, actorOf(req), req.meta, req.params.candidate_id),
    );

    r.get(
      path,
      {
        config: { auth: ALL_ROLES, deniedAudit: deniedAudit('admin_note', 'read') },
        schema: { tags, summary: 'One note', params: idParams, response: { 200: NoteResponse } },
      },
      async (req) => notes.get(actorOf(req), req.meta, req.params.id),
    );

    for (const [method, partial] of [
      ['PUT', false],
      ['PATCH', true],
    ] as const) {
      r.route({
        method,
        url: path,
        config: { auth: ALL_ROLES, deniedAudit: deniedAudit('admin_note', 'update') },
        schema: {
          tags,
          summary: partial ? 'Change some fields of a note (staff)' : 'Replace a note (staff)',
          params: idParams,
          body: NoteBodyDoc,
          response: { 200: NoteResponse },
        },
        handler: async (req) => notes.update(actorOf(req), req.meta, req.params.id, req.body, partial),
      });
    }

    r.delete(
      path,
      {
        config: { auth: ALL_ROLES, deniedAudit: deniedAudit('admin_note', 'delete') },
        schema: { tags, summary: 'Delete a note (staff)', params: idParams },
      },
      async (req, reply) => {
        await notes.remove(actorOf(req), req.meta, req.params.id);
        return reply.code(204).send();
      },
    );
  };
}
