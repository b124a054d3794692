import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { notFound } from '../../lib/errors.js';
import { SUPERUSER } from '../../plugins/auth.js';
import type { JobRunner } from './types.js';

const FailedJobSchema = z.object({
  id: z.string(),
  job: z.string(),
  attempts: z.number().int(),
  reason: z.string(),
  failed_at: z.string(),
});

/** Superuser routes over background jobs (docs/operations.md#background-jobs): failed jobs, retry. */
export function jobRoutes({ jobs }: { jobs: JobRunner }) {
  return async (app: FastifyInstance) => {
    const r = app.withTypeProvider<ZodTypeProvider>();
    const tags = ['jobs'];
    r.get(
      '/admin/jobs/failed/',
      {
        config: { auth: SUPERUSER },
        schema: {
          tags,
          summary: 'Background jobs that failed after all their attempts (reason without data), oldest first',
          querystring: z.object({ limit: z.coerce.number().int().min(1).max(500).default(100) }),
          response: { 200: z.object({ count: z.number().int(), results: z.array(FailedJobSchema) }) },
        },
      },
      async (req) => {
        const failed = await jobs.failed(req.query.limit);
        return {
          count: failed.length,
          results: failed.map((f) => ({
            id: f.id,
            job: f.job,
            attempts: f.attempts,
            reason: f.reason,
            failed_at: f.failedAt.toISOString(),
          })),
        };
      },
    );
    r.post(
      '/admin/jobs/failed/:id/retry/',
      {
        config: { auth: SUPERUSER },
        schema: {
          tags,
          summary: 'Run a failed background job again',
          params: z.object({ id: z.string().min(1).max(200) }),
          response: { 202: z.object({ message: z.string() }) },
        },
      },
      async (req, reply) => {
        if (!(await jobs.retry(req.params.id))) throw notFound('No failed job with that id.');
        return reply.code(202).send({ message: 'The job will run again.' });
      },
    );
  };
}
