import type { FastifyInstance } from 'fastify';
import { pageLinkOf } from '../../plugins/request-context.js';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { withFloat } from '../../lib/json-float.js';
import { ID_PARAM, idParams } from '../../lib/validation.js';
import { ALL_ROLES, actorOf } from '../../plugins/auth.js';
import { deniedAudit } from '../audit/index.js';
import {
  EntryBody,
  EntryPageSchema,
  EntryPatchBody,
  EntrySchema,
  ListQuery,
  StatsSchema,
} from './schemas.js';
import type { JournalService } from './service.js';
import type { StatsResponse } from './types.js';

/** Journal routes (docs/contract.md#journal): declare, validate, delegate. */
export function journalRoutes({ journal }: { journal: JournalService }) {
  return async (app: FastifyInstance) => {
    const r = app.withTypeProvider<ZodTypeProvider>();
    const tags = ['journal'];
    const entryPath = `/journal/${ID_PARAM}/`;

    r.get(
      '/journal/',
      {
        config: { auth: ALL_ROLES },
        schema: {
          tags,
          summary: 'Journal entries (own for candidates, all for staff), newest date first',
          querystring: ListQuery,
          response: { 200: EntryPageSchema },
        },
      },
      async (req) => journal.list(pageLinkOf(req), actorOf(req), req.meta, req.query),
    );

    r.post(
      '/journal/',
      {
        config: { auth: ALL_ROLES },
        schema: {
          tags,
          summary: 'Create an entry for the caller',
          body: EntryBody,
          response: { 201: EntrySchema },
        },
      },
      async (req, reply) => reply.code(201).send(await journal.create(actorOf(req), req.meta, req.body)),
    );

    // A static segment wins over the parametric `/journal/:id/` in the router.
    r.get(
      '/journal/stats/',
      {
        config: { auth: ALL_ROLES },
        schema: { tags, summary: 'Journal statistics', response: { 200: StatsSchema } },
      },
      async (req, reply) => {
        const stats = await journal.stats(actorOf(req));
        // The original writes the mean as a float (`8.0`); JSON.stringify would write `8`.
        const text = withFloat({ ...stats }, ['avg_energy_level']);
        return reply.type('application/json; charset=utf-8').send(text as unknown as StatsResponse);
      },
    );

    r.get(
      entryPath,
      {
        config: { auth: ALL_ROLES, deniedAudit: deniedAudit('journal_entry', 'read') },
        schema: { tags, summary: 'One entry', params: idParams, response: { 200: EntrySchema } },
      },
      async (req) => journal.get(actorOf(req), req.meta, req.params.id),
    );

    r.put(
      entryPath,
      {
        config: { auth: ALL_ROLES, deniedAudit: deniedAudit('journal_entry', 'update') },
        schema: {
          tags,
          summary: 'Replace an entry (owner or staff)',
          params: idParams,
          body: EntryBody,
          response: { 200: EntrySchema },
        },
      },
      async (req) => journal.replace(actorOf(req), req.meta, req.params.id, req.body),
    );

    r.patch(
      entryPath,
      {
        config: { auth: ALL_ROLES, deniedAudit: deniedAudit('journal_entry', 'update') },
        schema: {
          tags,
          summary: 'Update some fields of an entry (owner or staff)',
          params: idParams,
          body: EntryPatchBody,
          response: { 200: EntrySchema },
        },
      },
      async (req) => journal.update(actorOf(req), req.meta, req.params.id, req.body),
    );

    r.delete(
      entryPath,
      {
        config: { auth: ALL_ROLES, deniedAudit: deniedAudit('journal_entry', 'delete') },
        schema: { tags, summary: 'Delete an entry (owner or staff)', params: idParams },
      },
      async (req, reply) => {
        await journal.remove(actorOf(req), req.meta, req.params.id);
        return reply.code(204).send();
      },
    );
  };
}
