import type { FastifyInstance } from 'fastify';
import { pageLinkOf } from '../../../plugins/request-context.js';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { ID_PARAM, idParams } from '../../../lib/validation.js';
import { ALL_ROLES, actorOf } from '../../../plugins/auth.js';
import { deniedAudit } from '../../audit/index.js';
import { PageQuery } from '../page-query.js';
import {
  ConsentEventPageSchema,
  ConsentPageSchema,
  ConsentSchema,
  ConsentStatusSchema,
  GrantBody,
} from './schemas.js';
import type { ConsentService } from './service.js';

/** Consent routes (docs/privacy.md#consents), under /popia/: declare, validate, delegate. */
export function consentRoutes({ consents }: { consents: ConsentService }) {
  return async (app: FastifyInstance) => {
    const r = app.withTypeProvider<ZodTypeProvider>();
    const consentTags = ['consents'];

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
      async (req) => consents.list(pageLinkOf(req), actorOf(req), req.query),
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
      async (req) => consents.history(pageLinkOf(req), actorOf(req), req.query),
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
