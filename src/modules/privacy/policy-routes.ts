import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Container } from '../../container.js';
import { ID_PARAM, idParams } from '../../lib/validation.js';
import { ALL_ROLES, SUPERUSER, actorOf } from '../../plugins/auth.js';
import { deniedAudit } from '../audit/denied.js';
import {
  ConsentEventPageSchema,
  ConsentPageSchema,
  ConsentSchema,
  ConsentStatusSchema,
  GrantBody,
} from './consent-schemas.js';
import { createConsentService } from './consent-service.js';
import { PageQuery, PolicyPageSchema, PolicySchema, PolicyVersionBody } from './policy-schemas.js';
import { createPolicyService } from './policy-service.js';

/** Privacy policy and consent routes (spec privacy.md §1, §2), under /popia/: declare, validate, delegate. */
export function policyRoutes(c: Container) {
  const policy = createPolicyService(c);
  const consents = createConsentService(c);
  return async (app: FastifyInstance) => {
    const r = app.withTypeProvider<ZodTypeProvider>();
    const policyTags = ['privacy-policy'];
    const consentTags = ['consents'];

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
      async (req) => policy.list(req, req.query),
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

    r.get(
      '/popia/consents/',
      {
        config: { auth: ALL_ROLES },
        schema: {
          tags: consentTags,
          summary: "The caller's consents, most recently granted first",
          querystring: PageQuery,
          response: { 200: ConsentPageSchema },
        },
      },
      async (req) => consents.list(req, actorOf(req), req.query),
    );

    r.post(
      '/popia/consents/grant/',
      {
        config: { auth: ALL_ROLES },
        schema: {
          tags: consentTags,
          summary:
            'Grant a consent for a policy version: 201 when new, 200 when re-granted (the stored IP and User-Agent are the request’s)',
          body: GrantBody,
          response: { 200: ConsentSchema, 201: ConsentSchema },
        },
      },
      async (req, reply) => {
        const { consent, created } = await consents.grant(actorOf(req), req.meta, req.body);
        return reply.code(created ? 201 : 200).send(consent);
      },
    );

    r.post(
      `/popia/consents/${ID_PARAM}/withdraw/`,
      {
        config: { auth: ALL_ROLES, deniedAudit: deniedAudit('consent', 'consent_withdrawn') },
        schema: {
          tags: consentTags,
          summary: 'Withdraw one of the caller’s consents (no data is deleted)',
          params: idParams,
          response: { 200: ConsentSchema },
        },
      },
      async (req) => consents.withdraw(actorOf(req), req.meta, req.params.id),
    );

    r.get(
      '/popia/consents/history/',
      {
        config: { auth: ALL_ROLES },
        schema: {
          tags: consentTags,
          summary: "The caller's consent decisions (grant / withdraw), newest first",
          querystring: PageQuery,
          response: { 200: ConsentEventPageSchema },
        },
      },
      async (req) => consents.history(req, actorOf(req), req.query),
    );

    r.get(
      '/popia/consents/status/',
      {
        config: { auth: ALL_ROLES },
        schema: {
          tags: consentTags,
          summary:
            'Consents to ask for again: `policy_version` is the active policy version; `consent_required` lists the consent types whose current consent is missing, withdrawn, or was granted for an older policy version than the active one (a new policy version asks for consent again)',
          response: { 200: ConsentStatusSchema },
        },
      },
      async (req) => consents.status(actorOf(req)),
    );
  };
}
