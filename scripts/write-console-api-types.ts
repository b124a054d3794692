/**
 * `npm run console:api`: writes web/admin/src/api/schema.d.ts from the OpenAPI document of the routes as
 * they are (an app built on a throw-away embedded database, never listening).
 */
import { writeFile } from 'node:fs/promises';
import { createTestApp } from '../test/helpers/app.js';
import { apiTypes, SCHEMA_FILE } from './console-api-types.js';

const t = await createTestApp();
try {
  const res = await t.request({ method: 'GET', url: '/api/docs/json' });
  if (res.statusCode !== 200) throw new Error(`the OpenAPI document answered ${String(res.statusCode)}`);
  await writeFile(SCHEMA_FILE, await apiTypes(res.json()));
  console.log(`wrote ${SCHEMA_FILE.pathname}`);
} finally {
  await t.close();
}
