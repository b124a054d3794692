import { and, asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog, consentEvents, userConsents } from '../src/db/schema.js';
import { ensurePrivacyPolicy } from '../src/modules/privacy/policy/bootstrap.js';
import { createPolicyService } from '../src/modules/privacy/policy/service.js';
import {
  createTestApp,
  createUserWithSession,
  registerCandidate,
  type TestApp,
  type TestUser,
} from './helpers/app.js';

// Medical consent enforced for intake (the setting is read once at start).
let t: TestApp;
let alice: TestUser;
let bob: TestUser;
let admin: TestUser;
let v1: number;
beforeAll(async () => {
  t = await createTestApp({ INTAKE_REQUIRE_MEDICAL_CONSENT: 'true' });
  await ensurePrivacyPolicy(t.c);
  alice = await registerCandidate(t);
  bob = await registerCandidate(t);
  admin = await createUserWithSession(t, 'admin');
  v1 = (await t.request({ method: 'GET', url: '/api/popia/privacy-policy/' })).json<{ id: number }>().id;
});
afterAll(async () => {
  await t.close();
});

const UA = 'consent-test-agent/1.0';
const get = (url: string, user: TestUser) => t.request({ method: 'GET', url, token: user.access });
const post = (url: string, payload: unknown, user: TestUser) =>
  t.request({
    method: 'POST',
    url,
    payload: payload as object,
    token: user.access,
    headers: { 'user-agent': UA },
  });
const grant = (user: TestUser, consent_type: string, version = v1, extra: object = {}) =>
  post('/api/popia/consents/grant/', { consent_type, privacy_policy_version_id: version, ...extra }, user);

const CONSENT_KEYS = [
  'id',
  'consent_type',
  'consent_type_display',
  'privacy_policy_version',
  'privacy_policy_version_number',
  'granted',
  'granted_at',
  'withdrawn_at',
];
const EVENT_KEYS = [
  'id',
  'consent_type',
  'action',
  'privacy_policy_version',
  'privacy_policy_version_number',
  'at',
];
interface Consent {
  id: number;
  consent_type: string;
  consent_type_display: string;
  privacy_policy_version: number;
  privacy_policy_version_number: string;
  granted: boolean;
  granted_at: string;
  withdrawn_at: string | null;
}
interface Event {
  id: number;
  consent_type: string;
  action: string;
  privacy_policy_version: number;
  privacy_policy_version_number: string;
  at: string;
}
interface Page<T> {
  count: number;
  next: string | null;
  previous: string | null;
  results: T[];
}
const ALL_TYPES = ['data_processing', 'medical_data', 'communications', 'data_sharing'];

describe('consents', () => {
  it('requires a session and starts empty, with every consent required', async () => {
    expect((await t.request({ method: 'GET', url: '/api/popia/consents/' })).statusCode).toBe(401);
    const list = await get('/api/popia/consents/', alice);
    expect(list.statusCode).toBe(200);
    expect(list.json()).toEqual({ count: 0, next: null, previous: null, results: [] });
    const status = await get('/api/popia/consents/status/', alice);
    expect(status.statusCode).toBe(200);
    expect(status.json()).toEqual({ policy_version: '1.0', consent_required: ALL_TYPES });
  });

  it('validates the grant body and the policy version', async () => {
    const empty = await post('/api/popia/consents/grant/', {}, alice);
    expect(empty.statusCode).toBe(400);
    expect(empty.json()).toMatchObject({
      code: 'validation_error',
      errors: {
        consent_type: ['This field is required.'],
        privacy_policy_version_id: ['This field is required.'],
      },
    });
    const bad = await post(
      '/api/popia/consents/grant/',
      { consent_type: 'telepathy', privacy_policy_version_id: 'abc', ip_address: '999.1.1.1' },
      alice,
    );
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors).toEqual({
      consent_type: ['"telepathy" is not a valid choice.'],
      privacy_policy_version_id: ['A valid integer is required.'],
      ip_address: ['Enter a valid IPv4 or IPv6 address.'],
    });
    const unknown = await grant(alice, 'data_processing', 999999);
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json()).toMatchObject({
      detail: 'Invalid privacy policy version',
      error: 'Invalid privacy policy version',
    });
    expect(await t.c.db.select().from(userConsents).where(eq(userConsents.userId, alice.id))).toHaveLength(0);
  });

  let dataProcessing: Consent;
  it('grants a new consent (201), storing the request’s IP and User-Agent, not the body’s', async () => {
    const res = await grant(alice, 'data_processing', v1, {
      ip_address: '10.9.8.7',
      user_agent: 'Claimed/0.1',
    });
    expect(res.statusCode).toBe(201);
    dataProcessing = res.json<Consent>();
    expect(Object.keys(dataProcessing)).toEqual(CONSENT_KEYS);
    expect(dataProcessing).toMatchObject({
      consent_type: 'data_processing',
      consent_type_display: 'General Data Processing',
      privacy_policy_version: v1,
      privacy_policy_version_number: '1.0',
      granted: true,
      withdrawn_at: null,
    });
    const [row] = await t.c.db.select().from(userConsents).where(eq(userConsents.id, dataProcessing.id));
    expect(row).toMatchObject({ userId: alice.id, ipAddress: '127.0.0.1', userAgent: UA });
    const events = await t.c.db.select().from(consentEvents).where(eq(consentEvents.userId, alice.id));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ action: 'grant', ipAddress: '127.0.0.1', userAgent: UA });

    const [audit] = await t.c.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, 'consent_granted'), eq(auditLog.subjectUserId, alice.id)));
    expect(audit).toMatchObject({
      actorId: alice.id,
      resourceType: 'consent',
      resourceId: String(dataProcessing.id),
      metadata: { consent_type: 'data_processing', privacy_policy_version_number: '1.0' },
    });
  });

  it('re-granting the same type answers 200 on the same record', async () => {
    t.clock.advance(60);
    const res = await grant(alice, 'data_processing');
    expect(res.statusCode).toBe(200);
    expect(res.json<Consent>().id).toBe(dataProcessing.id);
    expect(res.json<Consent>().granted_at > dataProcessing.granted_at).toBe(true);
    const rows = await t.c.db.select().from(userConsents).where(eq(userConsents.userId, alice.id));
    expect(rows).toHaveLength(1);
  });

  it('lists own consents, most recently granted first, paginated; others see none of them', async () => {
    t.clock.advance(60);
    const medical = await grant(alice, 'medical_data');
    expect(medical.statusCode).toBe(201);
    expect(medical.json<Consent>().consent_type_display).toBe('Medical Data Processing');
    t.clock.advance(60);
    expect((await grant(alice, 'communications')).json<Consent>().consent_type_display).toBe(
      'Marketing Communications',
    );
    t.clock.advance(60);
    expect((await grant(alice, 'data_sharing')).json<Consent>().consent_type_display).toBe(
      'Data Sharing with Partners',
    );

    const list = (await get('/api/popia/consents/', alice)).json<Page<Consent>>();
    expect(list.count).toBe(4);
    expect(list.results.map((c) => c.consent_type)).toEqual([
      'data_sharing',
      'communications',
      'medical_data',
      'data_processing',
    ]);
    expect(Object.keys(list.results[0]!)).toEqual(CONSENT_KEYS);
    const paged = (await get('/api/popia/consents/?page_size=3&page=2', alice)).json<Page<Consent>>();
    expect(paged.results.map((c) => c.consent_type)).toEqual(['data_processing']);
    expect(paged.previous).not.toBeNull();

    expect((await get('/api/popia/consents/', bob)).json<Page<Consent>>().count).toBe(0);
    expect((await get('/api/popia/consents/', admin)).statusCode).toBe(200);
    expect((await get('/api/popia/consents/status/', alice)).json()).toEqual({
      policy_version: '1.0',
      consent_required: [],
    });
  });

  it('withdraws own consents only: 404 for others’ or missing, 400 when already withdrawn', async () => {
    for (const user of [bob, admin]) {
      const res = await post(`/api/popia/consents/${dataProcessing.id}/withdraw/`, {}, user);
      expect(res.statusCode).toBe(404);
      expect(res.json()).toMatchObject({
        detail: 'Consent record not found',
        error: 'Consent record not found',
      });
    }
    expect((await post('/api/popia/consents/999999/withdraw/', {}, alice)).statusCode).toBe(404);

    t.clock.advance(60);
    const res = await post(`/api/popia/consents/${dataProcessing.id}/withdraw/`, {}, alice);
    expect(res.statusCode).toBe(200);
    const body = res.json<Consent>();
    expect(Object.keys(body)).toEqual(CONSENT_KEYS);
    expect(body).toMatchObject({
      id: dataProcessing.id,
      granted: false,
      privacy_policy_version_number: '1.0',
    });
    expect(body.withdrawn_at).not.toBeNull();

    const again = await post(`/api/popia/consents/${dataProcessing.id}/withdraw/`, {}, alice);
    expect(again.statusCode).toBe(400);
    expect(again.json()).toMatchObject({
      detail: 'Consent already withdrawn',
      error: 'Consent already withdrawn',
    });

    const audits = await t.c.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, 'consent_withdrawn'), eq(auditLog.subjectUserId, alice.id)))
      .orderBy(auditLog.id);
    // Bob's and the admin's refused attempts (privacy.md §6), then Alice's withdrawal.
    expect(audits.map((a) => [a.actorId, a.outcome])).toEqual([
      [bob.id, 'denied'],
      [admin.id, 'denied'],
      [alice.id, 'success'],
    ]);
    expect(audits[2]).toMatchObject({ actorId: alice.id, resourceId: String(dataProcessing.id) });
    expect((await get('/api/popia/consents/status/', alice)).json().consent_required).toEqual([
      'data_processing',
    ]);
  });

  it('re-grants a withdrawn consent for a new version, and the history keeps every decision', async () => {
    const v2 = await createPolicyService(t.c).create(
      { actor: null, meta: null },
      {
        version: '2.0',
        title: 'Privacy Notice',
        content: '# v2',
        effective_date: '2031-01-01',
        is_active: true,
      },
    );
    // A new version asks for consent again.
    expect((await get('/api/popia/consents/status/', alice)).json()).toEqual({
      policy_version: '2.0',
      consent_required: ALL_TYPES,
    });

    t.clock.advance(60);
    const res = await grant(alice, 'data_processing', v2.id);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      id: dataProcessing.id,
      granted: true,
      withdrawn_at: null,
      privacy_policy_version: v2.id,
      privacy_policy_version_number: '2.0',
    });
    expect((await get('/api/popia/consents/status/', alice)).json().consent_required).toEqual([
      'medical_data',
      'communications',
      'data_sharing',
    ]);

    const history = await get('/api/popia/consents/history/', alice);
    expect(history.statusCode).toBe(200);
    const page = history.json<Page<Event>>();
    expect(Object.keys(page.results[0]!)).toEqual(EVENT_KEYS);
    expect(page.results.map((e) => [e.consent_type, e.action, e.privacy_policy_version_number])).toEqual([
      ['data_processing', 'grant', '2.0'],
      ['data_processing', 'withdraw', '1.0'],
      ['data_sharing', 'grant', '1.0'],
      ['communications', 'grant', '1.0'],
      ['medical_data', 'grant', '1.0'],
      ['data_processing', 'grant', '1.0'],
      ['data_processing', 'grant', '1.0'],
    ]);
    expect(page.results[0]!.privacy_policy_version).toBe(v2.id);
    expect((await get('/api/popia/consents/history/', bob)).json<Page<Event>>().count).toBe(0);
    const second = (await get('/api/popia/consents/history/?page_size=5&page=2', alice)).json<Page<Event>>();
    expect(second.count).toBe(7);
    expect(second.results).toHaveLength(2);
  });
});

describe('medical data consent and intake', () => {
  const medical = { intake_data: { address: 'Home', medications: 'Ritalin' } };
  it('accepts medical fields only while the medical_data consent is granted; withdrawal deletes nothing', async () => {
    const refused = await post('/api/intake/', medical, bob);
    expect(refused.statusCode).toBe(403);
    expect(refused.json().detail).toBe('Medical data consent required');

    const granted = await grant(bob, 'medical_data');
    expect(granted.statusCode).toBe(201);
    const accepted = await post('/api/intake/', medical, bob);
    expect(accepted.statusCode).toBe(200);
    expect(accepted.json().profile.medications).toBe('Ritalin');

    const withdrawn = await post(`/api/popia/consents/${granted.json<Consent>().id}/withdraw/`, {}, bob);
    expect(withdrawn.statusCode).toBe(200);
    const again = await post('/api/intake/', medical, bob);
    expect(again.statusCode).toBe(403);
    expect(again.json().detail).toBe('Medical data consent required');

    // Withdrawal stops new medical data; what was given stays until erasure is requested.
    const me = await get('/api/auth/me/', bob);
    expect(me.json().profile.medications).toBe('Ritalin');
  });
});

describe('consent events', () => {
  it('are append-only rows in time order for a user', async () => {
    const rows = await t.c.db
      .select()
      .from(consentEvents)
      .where(eq(consentEvents.userId, bob.id))
      .orderBy(asc(consentEvents.id));
    expect(rows.map((r) => r.action)).toEqual(['grant', 'withdraw']);
  });
});
