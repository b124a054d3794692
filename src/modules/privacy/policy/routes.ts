import type { FastifyInstance } from 'fastify';
import { pageLinkOf } from '../../../plugins/request-context.js';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { ID_PARAM, idParams } from '../../../lib/validation.js';
import { SUPERUSER, actorOf } from '../../../plugins/auth.js';
import { PageQuery } from '../page-query.js';
import { PolicyPageSchema, PolicySchema, PolicyVersionBody } from './schemas.js';
import type { PolicyService } from './service.js';

/**
 * Privacy policy routes (docs/privacy.md#privacy-policy-versions), under /popia/: declare,
 * validate, delegate.
 */
export function policyRoutes({ policies: policy }: { policies: PolicyService }) {
  return async (app: FastifyInstance) => {
    const r = app.withTypeProvider<ZodTypeProvider>();
    const policyTags = ['privacy-policy'];

    r.get(
      '/popia/privacy-policy/',
      {
        config: { auth: 'public' },
        schema: { tags: policyTags, summary: 'The active privacy policy', response: { 200: PolicySchema } },
      },
      async () => policy.current(),
    );

    r.get(
      '/popia/privacy-policy/versions/',
      {
        config: { auth: SUPERUSER },
        schema: {
          tags: policyTags,
          summary: 'All policy versions, newest effective date first',
          querystring: PageQuery,
          response: { 200: PolicyPageSchema },
        },
      },
      async (req) => policy.list(pageLinkOf(req), req.query),
    );

    r.post(
      '/popia/privacy-policy/versions/',
      {
        config: { auth: SUPERUSER },
        schema: {
          tags: policyTags,
          summary: 'Publish a new policy version (immutable); `is_active` makes it the only active one',
          body: PolicyVersionBody,
          response: { 201: PolicySchema },
        },
      },
      async (req, reply) =>
        reply.code(201).send(await policy.create({ actor: actorOf(req), meta: req.meta }, req.body)),
    );

    r.post(
      `/popia/privacy-policy/versions/${ID_PARAM}/activate/`,
      {
        config: { auth: SUPERUSER },
        schema: {
          tags: policyTags,
          summary: 'Make this version the active one (the others are deactivated)',
          params: idParams,
          response: { 200: PolicySchema },
        },
      },
      async (req) => policy.activate({ actor: actorOf(req), meta: req.meta }, req.params.id),
    );
  };
}
