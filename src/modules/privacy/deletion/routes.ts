import type { FastifyInstance } from 'fastify';
import { pageLinkOf } from '../../../plugins/request-context.js';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ID_PARAM, idParams, looseBody } from '../../../lib/validation.js';
import { ALL_ROLES, STAFF, actorOf } from '../../../plugins/auth.js';
import { deniedAudit } from '../../audit/index.js';
import { PageQuery } from '../page-query.js';
import {
  CreateDeletionBody,
  DeletionRequestPageSchema,
  DeletionRequestSchema,
  ExecuteResponseSchema,
} from './schemas.js';
import { parseReview } from './input.js';
import type { DeletionService } from './service.js';

/** Deletion requests (docs/privacy.md#deletion-requests), under /popia/: declare, validate, delegate. */
export function deletionRoutes({ deletions }: { deletions: DeletionService }) {
  return async (app: FastifyInstance) => {
    const r = app.withTypeProvider<ZodTypeProvider>();
    const tags = ['privacy'];
    const requestPath = (action: string) => `/popia/deletion-requests/${ID_PARAM}/${action}/`;

    r.post(
      '/popia/deletion-requests/create/',
      {
        config: { auth: ALL_ROLES },
        schema: {
          tags,
          summary: 'Ask for erasure of all of the caller’s data (right to erasure)',
          body: CreateDeletionBody,
          response: { 201: DeletionRequestSchema },
        },
      },
      async (req, reply) => reply.code(201).send(await deletions.create(actorOf(req), req.meta, req.body)),
    );

    r.get(
      '/popia/deletion-requests/',
      {
        config: { auth: ALL_ROLES },
        schema: {
          tags,
          summary: 'Deletion requests (own; all for staff), newest first',
          querystring: PageQuery,
          response: { 200: DeletionRequestPageSchema },
        },
      },
      async (req) => deletions.list(pageLinkOf(req), actorOf(req), req.query),
    );

    r.post(
      requestPath('review'),
      {
        config: { auth: STAFF, deniedMessage: 'Only admins can review deletion requests' },
        schema: {
          tags,
          summary: 'Approve (erasure after the grace period) or reject (notes required) a request',
          params: idParams,
          // Parsed here (input.ts), answered by the service after the request's status
          // (docs/privacy.md#deletion-requests order).
          body: looseBody({ action: z.unknown().optional(), notes: z.unknown().optional() }),
          response: { 200: DeletionRequestSchema },
        },
      },
      async (req) => deletions.review(actorOf(req), req.meta, req.params.id, parseReview(req.body)),
    );

    r.post(
      requestPath('cancel'),
      {
        config: { auth: ALL_ROLES, deniedAudit: deniedAudit('data_deletion_request', 'deletion_cancelled') },
        schema: {
          tags,
          summary: 'Withdraw an own request that has not been executed',
          params: idParams,
          response: { 200: DeletionRequestSchema },
        },
      },
      async (req) => deletions.cancel(actorOf(req), req.meta, req.params.id),
    );

    r.post(
      requestPath('execute'),
      {
        config: { auth: STAFF, deniedMessage: 'Only admins can execute deletions' },
        schema: {
          tags,
          summary: 'Erase the requester’s data now (approved requests; grace period skipped)',
          params: idParams,
          response: { 200: ExecuteResponseSchema },
        },
      },
      async (req) => deletions.execute(actorOf(req), req.meta, req.params.id),
    );
  };
}
