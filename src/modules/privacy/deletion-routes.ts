import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Container } from '../../container.js';
import { ID_PARAM, idParams, looseBody } from '../../lib/validation.js';
import { ALL_ROLES, STAFF, actorOf } from '../../plugins/auth.js';
import { deniedAudit } from '../audit/denied.js';
import {
  CreateDeletionBody,
  DeletionRequestPageSchema,
  DeletionRequestSchema,
  ExecuteResponseSchema,
  PageQuery,
} from './deletion-schemas.js';
import { createDeletionService } from './deletion-service.js';
import { ExemptBody, SchedulePageSchema, ScheduleSchema } from './retention-schemas.js';
import { createRetentionService } from './retention-service.js';

/**
 * Deletion requests (spec privacy.md §4) and the inactivity schedules staff manage (§5), under
 * /popia/: declare, validate, delegate.
 */
export function deletionRoutes(c: Container) {
  const deletions = createDeletionService(c);
  const retention = createRetentionService(c);
  return async (app: FastifyInstance) => {
    const r = app.withTypeProvider<ZodTypeProvider>();
    const tags = ['privacy'];
    const requestPath = (action: string) => `/popia/deletion-requests/${ID_PARAM}/${action}/`;
    const schedulePath = (action: string) => `/popia/retention/schedules/${ID_PARAM}/${action}/`;

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
      async (req) => deletions.list(req, actorOf(req), req.query),
    );

    r.post(
      requestPath('review'),
      {
        config: { auth: STAFF, deniedMessage: 'Only admins can review deletion requests' },
        schema: {
          tags,
          summary: 'Approve (erasure after the grace period) or reject (notes required) a request',
          params: idParams,
          // Checked by the service after the request's status (spec order).
          body: looseBody({ action: z.unknown().optional(), notes: z.unknown().optional() }),
          response: { 200: DeletionRequestSchema },
        },
      },
      async (req) => deletions.review(actorOf(req), req.meta, req.params.id, req.body ?? {}),
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

    r.get(
      '/popia/retention/schedules/',
      {
        config: { auth: STAFF },
        schema: {
          tags,
          summary: 'Accounts scheduled for erasure after inactivity (staff)',
          querystring: PageQuery,
          response: { 200: SchedulePageSchema },
        },
      },
      async (req) => retention.list(req, req.query),
    );

    r.post(
      schedulePath('exempt'),
      {
        config: { auth: STAFF },
        schema: {
          tags,
          summary: 'Exempt an account from erasure for inactivity (reason required)',
          params: idParams,
          body: ExemptBody,
          response: { 200: ScheduleSchema },
        },
      },
      async (req) => retention.exempt(actorOf(req), req.meta, req.params.id, req.body.reason),
    );

    r.post(
      schedulePath('unexempt'),
      {
        config: { auth: STAFF },
        schema: {
          tags,
          summary: 'Lift an exemption: the account follows the inactivity process again',
          params: idParams,
          response: { 200: ScheduleSchema },
        },
      },
      async (req) => retention.unexempt(actorOf(req), req.meta, req.params.id),
    );
  };
}
