import type { FastifyInstance, FastifyReply } from 'fastify';
import { pageLinkOf } from '../../../plugins/request-context.js';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { ID_PARAM, idParams } from '../../../lib/validation.js';
import { ALL_ROLES, actorOf } from '../../../plugins/auth.js';
import { deniedAudit } from '../../audit/index.js';
import { PageQuery } from '../page-query.js';
import { DownloadQuery, ExportJobPageSchema, ExportJobSchema } from './schemas.js';
import type { ExportService } from './service.js';
import type { ExportFile } from './types.js';

/** The export file: JSON text as built (2-space indent), as an attachment. */
function sendFile(reply: FastifyReply, file: ExportFile) {
  return reply
    .header('content-disposition', `attachment; filename="${file.filename}"`)
    .header('cache-control', 'no-store')
    .type('application/json; charset=utf-8')
    .send(file.body);
}

/** Data export routes (docs/privacy.md#data-export), under /popia/: declare, validate, delegate. */
export function exportRoutes({ exports }: { exports: ExportService }) {
  return async (app: FastifyInstance) => {
    const r = app.withTypeProvider<ZodTypeProvider>();
    const tags = ['popia'];

    r.get(
      '/popia/data-export/',
      {
        config: { auth: ALL_ROLES },
        schema: {
          tags,
          summary: 'Download all of your data now (JSON attachment)',
          produces: ['application/json'],
        },
      },
      async (req, reply) => sendFile(reply, await exports.exportNow(actorOf(req), req.meta)),
    );

    r.post(
      '/popia/data-export/',
      {
        config: { auth: ALL_ROLES },
        schema: {
          tags,
          summary: 'Request an export; it is built in the background and e-mailed as a link',
          response: { 202: ExportJobSchema },
        },
      },
      async (req, reply) => {
        const job = await exports.request(actorOf(req), req.meta);
        exports.kick();
        return reply.code(202).send(job);
      },
    );

    r.get(
      '/popia/data-export/requests/',
      {
        config: { auth: ALL_ROLES },
        schema: {
          tags,
          summary: 'Your export requests, newest first',
          querystring: PageQuery,
          response: { 200: ExportJobPageSchema },
        },
      },
      async (req) => exports.list(pageLinkOf(req), actorOf(req), req.query),
    );

    r.get(
      `/popia/data-export/${ID_PARAM}/`,
      {
        config: { auth: ALL_ROLES, deniedAudit: deniedAudit('data_export_request', 'read') },
        schema: {
          tags,
          summary: 'One of your export requests',
          params: idParams,
          response: { 200: ExportJobSchema },
        },
      },
      async (req) => exports.get(actorOf(req), req.params.id),
    );

    // Public so the e-mailed link works without signing in; the service admits the owner's access
    // token or the single-use download token, and answers 404 to everyone else.
    r.get(
      `/popia/data-export/${ID_PARAM}/download/`,
      {
        config: { auth: 'public', deniedAudit: deniedAudit('data_export_request', 'export_downloaded') },
        schema: {
          tags,
          summary: 'Download a completed export (owner, or once with the e-mailed token)',
          params: idParams,
          querystring: DownloadQuery,
          produces: ['application/json'],
        },
      },
      async (req, reply) =>
        sendFile(reply, await exports.download(req.actor, req.meta, req.params.id, req.query.token)),
    );
  };
}
