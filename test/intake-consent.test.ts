import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, registerCandidate, type TestApp, type TestUser } from './helpers/app.js';

// INTAKE_REQUIRE_MEDICAL_CONSENT on (its own app: the setting is read once at start).
let t: TestApp;
let candidate: TestUser;
beforeAll(async () => {
  t = await createTestApp({ INTAKE_REQUIRE_MEDICAL_CONSENT: 'true' });
  candidate = await registerCandidate(t);
});
afterAll(async () => {
  await t.close();
});

describe('intake with medical consent required', () => {
  it('refuses medical fields without a medical_data consent and accepts the others', async () => {
    const refused = await t.request({
      method: 'POST',
      url: '/api/intake/',
      payload: { intake_data: { address: 'Home', medications: 'Ritalin' } },
      token: candidate.access,
    });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().detail).toBe('Medical data consent required');
    const me = await t.request({ method: 'GET', url: '/api/auth/me/', token: candidate.access });
    expect(me.json().has_completed_intake).toBe(false);

    const accepted = await t.request({
      method: 'POST',
      url: '/api/intake/',
      payload: { intake_data: { address: 'Home', medications: null } },
      token: candidate.access,
    });
    expect(accepted.statusCode).toBe(200);
    expect(accepted.json().profile.address).toBe('Home');
  });
});
