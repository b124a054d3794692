import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiTypes, SCHEMA_FILE } from '../scripts/console-api-types.js';
import { createTestApp, type TestApp } from './helpers/app.js';

/**
 * The console's typed client (web/admin/src/api/schema.d.ts) is generated from the routes' OpenAPI
 * document. When a route changes and the file is not regenerated, the console would call the service
 * with types that are no longer true: this fails until `npm run console:api` is run and committed.
 */
describe('console client', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('is generated from the OpenAPI document of the routes as they are', async () => {
    const res = await t.request({ method: 'GET', url: '/api/docs/json' });
    expect(res.statusCode).toBe(200);
    const committed = await readFile(SCHEMA_FILE, 'utf8');
    const current = await apiTypes(res.json());
    expect(
      committed === current,
      'web/admin/src/api/schema.d.ts is out of date: run `npm run console:api` and commit it',
    ).toBe(true);
  });
});
