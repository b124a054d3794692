/**
 * The small data set, made through the API like a user would: a reader candidate with 20 journal
 * entries, one writer candidate per connection (the contract allows one entry per user and date), the
 * login storm's candidates, and an admin enrolled in 2FA (created by the bootstrap superuser, who
 * enrols first).
 */
import * as OTPAuth from 'otpauth';
import { call, send } from './http.js';
import { SUPERUSER } from './service.js';

export const PASSWORD = 'Tq9!Vb7#Lm4$Xz2k';
const DOMAIN = 'capaciti.org.za';

export interface Account {
  id: number;
  email: string;
  access: string;
}

export interface SmallSet {
  reader: Account;
  writers: Account[];
  /** Signed in over and over by the login storm (one per storm connection). */
  storm: Account[];
  admin: Account;
}

interface Tokens {
  access: string;
  user: { id: number };
}

export const MOODS = ['excellent', 'good', 'okay', 'difficult', 'very_difficult'] as const;

async function register(port: number, email: string): Promise<Account> {
  const body = await call<Tokens>(
    port,
    { method: 'POST', path: '/api/auth/register/', body: { email, password: PASSWORD, first_name: 'Bench' } },
    201,
  );
  return { id: body.user.id, email, access: body.access };
}

async function registerMany(port: number, tag: string, n: number, run: string): Promise<Account[]> {
  const out: Account[] = [];
  for (let i = 0; i < n; i += 4) {
    const batch = Array.from({ length: Math.min(4, n - i) }, (_, k) =>
      register(port, `bench.${tag}${i + k}.${run}@${DOMAIN}`),
    );
    out.push(...(await Promise.all(batch)));
  }
  return out;
}

function totp(secret: string): string {
  return OTPAuth.TOTP.generate({
    secret: OTPAuth.Secret.fromBase32(secret),
    algorithm: 'SHA1',
    digits: 6,
    period: 30,
    timestamp: Date.now(),
  });
}

/** Staff sign-in the first time: login → 403 with a setup token → 2fa/setup → 2fa/verify-setup. */
async function enrolStaff(port: number, email: string, password: string): Promise<Account> {
  const login = await send(port, { method: 'POST', path: '/api/auth/login/', body: { email, password } });
  if (login.status !== 403) throw new Error(`staff login: ${login.status} ${login.body.slice(0, 200)}`);
  const setupToken = (JSON.parse(login.body) as { setup_token: string }).setup_token;
  const setup = await call<{ secret: string }>(port, {
    method: 'POST',
    path: '/api/auth/2fa/setup/',
    token: setupToken,
    body: {},
  });
  const done = await call<Tokens>(port, {
    method: 'POST',
    path: '/api/auth/2fa/verify-setup/',
    token: setupToken,
    body: { totp_code: totp(setup.secret) },
  });
  return { id: done.user.id, email, access: done.access };
}

export interface EntryBody {
  date: string;
  mood: (typeof MOODS)[number];
  energy_level: number;
  activities: string;
  challenges: string;
  achievements: string;
  notes: string;
  barriers_faced: string;
  barrier_count: number;
}

export function entryBody(date: string, i: number): EntryBody {
  return {
    date,
    mood: MOODS[i % MOODS.length] ?? 'okay',
    energy_level: 1 + (i % 10),
    activities: `Worked through module ${i} of the course; paired with a mentor in the afternoon.`,
    challenges: i % 3 ? 'Screen reader lost focus in the quiz twice.' : '',
    achievements: 'Finished the exercise set.',
    notes: i % 2 ? 'Energy dipped after lunch.' : '',
    barriers_faced: i % 4 ? '' : 'Transport was late.',
    barrier_count: i % 4 ? 0 : 1,
  };
}

export async function seedSmall(port: number, writers: number, stormSize: number): Promise<SmallSet> {
  const run = Date.now().toString(36);
  const [reader] = await registerMany(port, 'reader', 1, run);
  if (!reader) throw new Error('no reader');
  for (let i = 0; i < 20; i += 1) {
    const date = `2026-01-${String(i + 1).padStart(2, '0')}`;
    await call(
      port,
      { method: 'POST', path: '/api/journal/', token: reader.access, body: entryBody(date, i) },
      201,
    );
  }
  const root = await enrolStaff(port, SUPERUSER.email, SUPERUSER.password);
  const adminEmail = `bench.admin.${run}@${DOMAIN}`;
  await call(
    port,
    {
      method: 'POST',
      path: '/api/users/create-admin/',
      token: root.access,
      body: { email: adminEmail, password: PASSWORD, first_name: 'Bench', last_name: 'Admin' },
    },
    201,
  );
  const admin = await enrolStaff(port, adminEmail, PASSWORD);
  return {
    reader,
    writers: await registerMany(port, 'writer', writers, run),
    storm: await registerMany(port, 'storm', stormSize, run),
    admin,
  };
}
