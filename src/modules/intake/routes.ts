import type { FastifyInstance } from 'fastify';
import { pageLinkOf } from '../../plugins/request-context.js';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { idParams } from '../../lib/validation.js';
import { ALL_ROLES, STAFF, actorOf } from '../../plugins/auth.js';
import { ProfileSchema } from '../users/index.js';
import { deniedAudit } from '../audit/index.js';
import {
  IntakeBody,
  IntakeResponse,
  ReviewBody,
  SubmissionItemSchema,
  SubmissionListQuery,
  SubmissionPageSchema,
  SubmitResponse,
} from './schemas.js';
import type { IntakeService } from './service.js';

/**
 * Intake routes (docs/contract.md#intake, docs/contract.md "Intake submissions"): declare, validate,
 * delegate. Static paths (`submit/`, `submissions/`) win over `:id` in the router.
 */
export function intakeRoutes({ intake }: { intake: IntakeService }) {
  return async (app: FastifyInstance) => {
    const r = app.withTypeProvider<ZodTypeProvider>();
    const tags = ['intake'];

    r.post(
      '/intake/',
      {
        config: { auth: ALL_ROLES },
        schema: {
          tags,
          summary: "Complete (or update) the caller's intake profile",
          body: IntakeBody,
          response: { 200: IntakeResponse },
        },
      },
      async (req) => intake.complete(actorOf(req), req.meta, req.body),
    );

    r.post(
      '/intake/submit/',
      {
        config: { auth: ALL_ROLES },
        schema: {
          tags,
          summary: 'Complete the intake and return the stored submission',
          body: IntakeBody,
          response: { 200: SubmitResponse },
        },
      },
      async (req) => intake.complete(actorOf(req), req.meta, req.body),
    );

    r.get(
      '/intake/submissions/',
      {
        config: { auth: ALL_ROLES },
        schema: {
          tags,
          summary: 'Intake submissions, newest first (own; staff: all, filter by user and status)',
          querystring: SubmissionListQuery,
          response: { 200: SubmissionPageSchema },
        },
      },
      async (req) => intake.list(pageLinkOf(req), actorOf(req), req.meta, req.query),
    );

    r.get(
      '/intake/submissions/:id(^\\d{1,15}$)/',
      {
        config: { auth: ALL_ROLES, deniedAudit: deniedAudit('intake_submission', 'read') },
        schema: {
          tags,
          summary: 'One intake submission (own; staff: any)',
          params: idParams,
          response: { 200: SubmissionItemSchema },
        },
      },
      async (req) => intake.detail(actorOf(req), req.meta, req.params.id),
    );

    r.patch(
      '/intake/submissions/:id(^\\d{1,15}$)/',
      {
        config: { auth: STAFF },
        schema: {
          tags,
          summary: 'Review an intake submission (status, review notes)',
          params: idParams,
          body: ReviewBody,
          response: { 200: SubmissionItemSchema },
        },
      },
      async (req) => intake.review(actorOf(req), req.meta, req.params.id, req.body),
    );

    r.get(
      '/intake/:id(^\\d{1,15}$)/',
      {
        config: { auth: ALL_ROLES, deniedAudit: deniedAudit('profile', 'read') },
        schema: {
          tags,
          summary: "A user's intake profile (own; staff: any)",
          params: idParams,
          response: { 200: ProfileSchema },
        },
      },
      async (req) => intake.profile(actorOf(req), req.meta, req.params.id),
    );
  };
}
