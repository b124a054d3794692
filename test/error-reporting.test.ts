import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { createContainer, type Container } from '../src/container.js';
import {
  initErrorReporting,
  noErrorReporting,
  reportingFailures,
  type ErrorReporter,
} from '../src/lib/error-reporting.js';
import type { FastifyInstance } from 'fastify';
import { uniqueEmail } from './helpers/app.js';
import { freshDatabase } from './helpers/database.js';
import { testConfig } from './helpers/env.js';

/**
 * Sentry reporting (docs/operations.md#error-reporting) against a stand-in for Sentry's ingest endpoint:
 * a 500 and a failed background job arrive with their ids, and nothing of the person's data does.
 */

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** A local HTTP server taking Sentry envelopes (`POST /api/<project>/envelope/`). */
async function fakeIngest() {
  const envelopes: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
      if (req.url?.startsWith('/api/1/envelope/')) envelopes.push(body.toString('utf8'));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    dsn: `http://publickey@127.0.0.1:${String(port)}/1`,
    envelopes,
    close: () =>
      new Promise<void>((resolve) =>
        server.close(() => {
          resolve();
        }),
      ),
  };
}

/** The JSON items of the envelopes that carry an event. */
function events(envelopes: string[]): Record<string, unknown>[] {
  return envelopes.flatMap((text) => {
    const lines = text.split('\n').filter(Boolean);
    const out: Record<string, unknown>[] = [];
    for (let i = 1; i < lines.length; i += 2) {
      const header = JSON.parse(lines[i]!) as { type?: string };
      if (header.type === 'event') out.push(JSON.parse(lines[i + 1]!) as Record<string, unknown>);
    }
    return out;
  });
}

describe('error reporting to Sentry', () => {
  let ingest: Awaited<ReturnType<typeof fakeIngest>>;
  let reporter: ErrorReporter;
  let c: Container;
  let app: FastifyInstance;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    ingest = await fakeIngest();
    const fresh = await freshDatabase();
    drop = fresh.drop;
    const config = testConfig({ SENTRY_DSN: ingest.dsn, SENTRY_ENVIRONMENT: 'ci' });
    reporter = await initErrorReporting(config, silent);
    c = await createContainer(config, { database: fresh.database, migrate: false, errorReporter: reporter });
    app = await buildApp(c, { errorReporter: reporter });
    await app.ready();
    // A defect, not an outage: writing a journal entry's audit row fails, with the author's e-mail in
    // the database's message.
    await fresh.database.exec(`
      create function pss_test_refuse_journal_audit() returns trigger language plpgsql as $$
      begin
        if new.resource_type = 'journal_entry' and new.action = 'create' then
          raise exception 'simulated defect for %', (select email from users where id = new.subject_user_id);
        end if;
        return new;
      end $$;
      create trigger pss_test_refuse_journal_audit before insert on audit_log
        for each row execute function pss_test_refuse_journal_audit();`);
  });
  afterAll(async () => {
    await app.close();
    await drop();
    await ingest.close();
  });

  it('reports a 500 with its error id, route and status, and none of the request or the person', async () => {
    const email = uniqueEmail('sentry');
    const password = 'Sentry#Check-Pass-2026';
    const registered = await app.inject({
      method: 'POST',
      url: '/api/auth/register/',
      payload: { email, password, first_name: 'Nomvula', last_name: 'Dlamini' },
    });
    expect(registered.statusCode).toBe(201);
    const { access } = registered.json<{ access: string }>();
    const journalText = 'Panic attack on the train again, took my medication late';

    const res = await app.inject({
      method: 'POST',
      url: `/api/journal/?password=${encodeURIComponent(password)}&email=${encodeURIComponent(email)}`,
      headers: { authorization: `Bearer ${access}`, cookie: 'sessionid=cookie-secret-value' },
      payload: {
        date: '2026-03-02',
        mood: 'difficult',
        energy_level: 3,
        activities: journalText,
        challenges: `write to ${email}`,
        password,
      },
    });
    expect(res.statusCode).toBe(500);
    const { error_id } = res.json<{ error_id: string }>();
    expect(await reporter.flush(5000)).toBe(true);

    const [event] = events(ingest.envelopes).filter(
      (e) => (e.tags as Record<string, unknown>).error_id === error_id,
    );
    expect(event).toBeDefined();
    expect(event?.tags).toMatchObject({
      error_id,
      route: '/api/journal/',
      method: 'POST',
      status: 500,
      request_id: expect.any(String) as unknown,
    });
    expect(event?.environment).toBe('ci');
    if (process.env.SHOW_EVENT) console.log(JSON.stringify(event, null, 1));
    const exception = JSON.stringify(event?.exception);
    expect(exception).toContain('simulated defect for [email]');

    // Nothing that identifies the person or carries their data, anywhere in what was sent.
    const sent = ingest.envelopes.join('\n');
    for (const value of [
      journalText,
      email,
      encodeURIComponent(email),
      password,
      'Nomvula',
      'Dlamini',
      access,
      'cookie-secret-value',
    ]) {
      expect(sent).not.toContain(value);
    }
    for (const key of ['request', 'user', 'breadcrumbs', 'extra', 'contexts']) {
      expect(event).not.toHaveProperty(key);
    }
  });

  it('reports a failed background job with the job name, and none of its data', async () => {
    // A job the e-mail worker cannot run (an unknown template): it fails, is retried, and is reported.
    await c.jobs.enqueue('email.send', {
      template: 'no_such_template',
      to: 'thandi@capaciti.org.za',
      data: {},
    });
    await c.jobs.idle();
    expect(await reporter.flush(5000)).toBe(true);
    const event = events(ingest.envelopes).find(
      (e) => (e.tags as Record<string, unknown>).job === 'email.send',
    );
    expect(JSON.stringify(event?.exception)).toContain('malformed e-mail job');
    expect(ingest.envelopes.join('\n')).not.toContain('thandi');
  });

  it('a failed scheduled job is reported with its name, without the query parameters of its error', async () => {
    const failing = {
      name: 'retention.inactive',
      schedule: { cron: '0 3 * * *' },
      run: () =>
        Promise.reject(
          new Error('Failed query: select 1 from users where email = $1\nparams: thandi@capaciti.org.za'),
        ),
    };
    await expect(reportingFailures(failing, reporter).run()).rejects.toThrow('Failed query');
    expect(await reporter.flush(5000)).toBe(true);
    const event = events(ingest.envelopes).find(
      (e) => (e.tags as Record<string, unknown>).job === 'retention.inactive',
    );
    expect(JSON.stringify(event?.exception)).toContain('Failed query: select 1 from users');
    expect(ingest.envelopes.join('\n')).not.toContain('thandi');
  });

  it('sends nothing and costs nothing without SENTRY_DSN', async () => {
    const config = testConfig();
    expect(config.sentry.dsn).toBeUndefined();
    const off = await initErrorReporting(config, silent);
    expect(off).toBe(noErrorReporting);
    const job = { name: 'x', run: () => Promise.resolve(undefined) };
    expect(reportingFailures(job, off)).toBe(job);
  });
});
