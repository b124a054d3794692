/**
 * What one round measures, in order: the ceilings, the hot reads, journal writes (one instance, then
 * two on the same database), `me` alone and `me` beside a login storm.
 */
import type { Child } from './child.js';
import type { Reply } from './http.js';
import type { LoadSpec } from './load.js';
import { entryBody, PASSWORD, type SmallSet } from './seed.js';

export interface Phase {
  key: string;
  /** One row per load, reported in this order. */
  labels: string[];
  loads: LoadSpec[];
  /** Whose CPU time counts. */
  processes: Child[];
  /** Service instances whose `db_statements_total` counts. */
  services: Child[];
  /** Part of the read set measured again on the large data set. */
  read?: boolean;
  /**
   * The phase's CPU and statements are charged to load 0 after taking out the other loads' share,
   * priced at their per-request cost in the phase named here (the login storm's `me`).
   */
  othersPricedBy?: string;
}

export interface PhaseWorld {
  seconds: number;
  connections: number;
  ceilings: { http: Child; fastify: Child };
  service: Child;
  /** A second instance on the same database (PostgreSQL only). */
  second: Child | undefined;
  data: SmallSet;
  /** Ids of rows created and answered 201, checked in the database at the end. */
  created: number[];
}

const DAY_MS = 86_400_000;
const FIRST_DAY = Date.UTC(1000, 0, 1);

export function buildPhases(w: PhaseWorld): Phase[] {
  const { seconds, connections, data } = w;
  const half = Math.max(1, Math.floor(connections / 2));
  const get = (ports: number[], path: string, token?: string, conns = connections): LoadSpec => ({
    ports,
    connections: conns,
    seconds,
    request: () => ({ method: 'GET', path, token }),
  });
  // One entry per writer and date: each writer walks forward from year 1000, never repeating a date.
  const nextDay = data.writers.map(() => 0);
  const keepId = (_worker: number, reply: Reply) => {
    if (reply.status === 201) w.created.push((JSON.parse(reply.body) as { id: number }).id);
  };
  const create = (ports: number[]): LoadSpec => ({
    ports,
    connections,
    seconds,
    ok: [201],
    onReply: keepId,
    request: (worker) => {
      const writer = data.writers[worker % data.writers.length];
      const day = (nextDay[worker % data.writers.length] ?? 0) + 1;
      nextDay[worker % data.writers.length] = day;
      const date = new Date(FIRST_DAY + day * DAY_MS).toISOString().slice(0, 10);
      return { method: 'POST', path: '/api/journal/', token: writer?.access, body: entryBody(date, day) };
    },
  });
  const svc = [w.service.port];
  const me = '/api/auth/me/';
  const phases: Phase[] = [
    {
      key: 'ceiling-http',
      labels: ['ceiling: bare node:http'],
      loads: [get([w.ceilings.http.port], '/')],
      processes: [w.ceilings.http],
      services: [],
    },
    {
      key: 'ceiling-fastify',
      labels: ['ceiling: bare Fastify route'],
      loads: [get([w.ceilings.fastify.port], '/')],
      processes: [w.ceilings.fastify],
      services: [],
    },
    {
      key: 'me',
      labels: [`GET ${me}`],
      loads: [get(svc, me, data.reader.access)],
      processes: [w.service],
      services: [w.service],
      read: true,
    },
    {
      key: 'journal-list',
      labels: ['GET /api/journal/ (20 rows)'],
      loads: [get(svc, '/api/journal/', data.reader.access)],
      processes: [w.service],
      services: [w.service],
      read: true,
    },
    {
      key: 'admin-stats',
      labels: ['GET /api/dashboard/admin-stats/ (admin, 2FA)'],
      loads: [get(svc, '/api/dashboard/admin-stats/', data.admin.access)],
      processes: [w.service],
      services: [w.service],
      read: true,
    },
    {
      key: 'journal-create',
      labels: ['POST /api/journal/'],
      loads: [create(svc)],
      processes: [w.service],
      services: [w.service],
    },
  ];
  if (w.second) {
    phases.push({
      key: 'journal-create-2x',
      labels: ['POST /api/journal/ on 2 instances'],
      loads: [create([w.service.port, w.second.port])],
      processes: [w.service, w.second],
      services: [w.service, w.second],
    });
  }
  phases.push(
    {
      key: 'me-alone',
      labels: [`GET ${me} alone (${half} conns)`],
      loads: [get(svc, me, data.reader.access, half)],
      processes: [w.service],
      services: [w.service],
    },
    {
      key: 'login-storm',
      labels: [`POST /api/auth/login/ storm (${half} conns)`, `GET ${me} beside the storm (${half} conns)`],
      loads: [
        {
          ports: svc,
          connections: half,
          seconds,
          request: (worker) => ({
            method: 'POST',
            path: '/api/auth/login/',
            body: { email: data.storm[worker % data.storm.length]?.email, password: PASSWORD },
          }),
        },
        get(svc, me, data.reader.access, half),
      ],
      processes: [w.service],
      services: [w.service],
      othersPricedBy: 'me-alone',
    },
  );
  return phases;
}
