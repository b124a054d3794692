import type { FastifyInstance } from 'fastify';
import { pageLinkOf } from '../../../plugins/request-context.js';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { ID_PARAM, idParams } from '../../../lib/validation.js';
import { STAFF, actorOf } from '../../../plugins/auth.js';
import { PageQuery } from '../page-query.js';
import { ExemptBody, SchedulePageSchema, ScheduleSchema } from './schemas.js';
import type { RetentionService } from './service.js';

/**
 * The inactivity schedules staff manage (docs/privacy.md#inactive-accounts), under /popia/:
 * declare, validate, delegate.
 */
export function retentionRoutes({ retention }: { retention: RetentionService }) {
  return async (app: FastifyInstance) => {
    const r = app.withTypeProvider<ZodTypeProvider>();
    const tags = ['privacy'];
    const schedulePath = (action: string) => `/popia/retention/schedules/${ID_PARAM}/${action}/`;

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
      async (req) => retention.list(pageLinkOf(req), req.query),
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
