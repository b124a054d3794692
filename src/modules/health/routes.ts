import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';

export interface ReadinessCheck {
  name: string;
  check: () => Promise<'ok' | 'disabled'>;
}

const Healthy = z.object({ status: z.literal('healthy'), message: z.string() });
const HEALTHY = { status: 'healthy' as const, message: 'PSS Backend API is running' };

/** Liveness at `/`, `/api/`, `/api/v1/`, `/health/`; readiness at `/health/ready/` (docs/contract.md#health-and-service-routes). */
export function healthRoutes(checks: ReadinessCheck[]) {
  return async (app: FastifyInstance) => {
    const r = app.withTypeProvider<ZodTypeProvider>();
    const tags = ['health'];
    for (const url of ['/', '/api/', '/api/v1/']) {
      r.get(
        url,
        {
          config: { auth: 'public-ignore-token', rateLimit: false, database: false },
          schema: { tags, response: { 200: Healthy } },
        },
        () => HEALTHY,
      );
    }
    r.get(
      '/health/',
      {
        config: { auth: 'public-ignore-token', rateLimit: false, database: false },
        schema: { tags, response: { 200: z.object({ status: z.literal('healthy') }) } },
      },
      () => ({ status: 'healthy' as const }),
    );
    r.get(
      '/health/ready/',
      {
        config: { auth: 'public-ignore-token', rateLimit: false, database: false },
        schema: {
          tags,
          response: {
            200: z.object({ status: z.string(), checks: z.record(z.string(), z.string()) }),
            503: z.object({ status: z.string(), checks: z.record(z.string(), z.string()) }),
          },
        },
      },
      async (_req, reply) => {
        const results: Record<string, string> = {};
        let ready = true;
        await Promise.all(
          checks.map(async ({ name, check }) => {
            try {
              results[name] = await withTimeout(check(), 2000);
            } catch {
              results[name] = 'error';
              ready = false;
            }
          }),
        );
        return reply
          .code(ready ? 200 : 503)
          .send({ status: ready ? 'ready' : 'unavailable', checks: results });
      },
    );
  };
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error('timeout'));
    }, ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
