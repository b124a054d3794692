import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { withFloat } from '../../lib/json-float.js';
import { CANDIDATE_ONLY, STAFF, actorOf } from '../../plugins/auth.js';
import { ActivityQuery, ActivitySchema, AdminStats, CandidateStats } from './schemas.js';
import type { DashboardService } from './service.js';

/** Dashboards (docs/contract.md#dashboards). Refused roles get the original's own 403 detail, "Forbidden". */
export function dashboardRoutes({ dashboard }: { dashboard: DashboardService }) {
  return async (app: FastifyInstance) => {
    const r = app.withTypeProvider<ZodTypeProvider>();
    const tags = ['dashboard'];

    const adminStats = {
      config: { auth: STAFF, deniedMessage: 'Forbidden' },
      schema: { tags, summary: 'Programme figures (staff)', response: { 200: AdminStats } },
    };
    r.get('/dashboard/admin-stats/', adminStats, async (req) => dashboard.adminStats(actorOf(req)));
    // Alias from the original's architecture overview (docs/contract.md).
    r.get('/dashboard/stats/', adminStats, async (req) => dashboard.adminStats(actorOf(req)));

    r.get(
      '/dashboard/activity/',
      {
        config: { auth: STAFF, deniedMessage: 'Forbidden' },
        schema: {
          tags,
          summary: 'Journal entries and barriers per day, the last `days` days (staff; counts only)',
          querystring: ActivityQuery,
          response: { 200: ActivitySchema },
        },
      },
      async (req) => dashboard.activity(actorOf(req), req.query.days),
    );

    // Untyped reply: the body is sent as ready JSON text, which Fastify passes through unserialized.
    app.get(
      '/dashboard/candidate-stats/',
      {
        config: { auth: CANDIDATE_ONLY, deniedMessage: 'Forbidden' },
        schema: { tags, summary: "The caller's own figures (candidates)", response: { 200: CandidateStats } },
      },
      async (req, reply) => {
        const { body, floatKeys } = await dashboard.candidateStats(actorOf(req));
        // Written as text so a whole average keeps its decimal (`8.0`), as the original's JSON.
        return reply.type('application/json; charset=utf-8').send(withFloat({ ...body }, floatKeys));
      },
    );
  };
}
