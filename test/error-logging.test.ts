import { expect, it } from 'vitest';
import { loggableError } from '../src/plugins/errors.js';
it('drops query parameters from logged driver errors', () => {
  const err = new Error('Failed query: select * from users where email = $1\nparams: thandi@capaciti.org.za');
  const out = loggableError(err);
  expect(JSON.stringify(out)).not.toContain('thandi@capaciti.org.za');
  expect(out.message).toContain('Failed query');
  expect(String(out.stack)).toContain('at ');
});
