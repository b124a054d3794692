import { describe, expect, it } from 'vitest';
import { testConfig } from '../../../test/helpers/env.js';
import { createMailer } from './mailer.js';

describe('mailer', () => {
  it('retries, gives up without throwing and logs no address', async () => {
    const errors: object[] = [];
    const outcomes: string[] = [];
    const config = testConfig({
      EMAIL_BACKEND: 'smtp',
      EMAIL_HOST: '127.0.0.1',
      EMAIL_PORT: '9',
      EMAIL_USE_TLS: 'false',
      EMAIL_MAX_RETRIES: '1',
      EMAIL_RETRY_DELAY_SECONDS: '0',
    });
    const logger = { info: () => undefined, warn: () => undefined, error: (o: object) => errors.push(o) };
    const mailer = createMailer(config, logger, (_t, outcome) => outcomes.push(outcome));
    mailer.send('welcome', 'thandi.nkosi@capaciti.org.za', { name: 'Thandi', loginUrl: 'http://x/login' });
    await mailer.idle();
    expect(outcomes).toEqual(['failed']);
    expect(errors).toHaveLength(1);
    expect(JSON.stringify(errors)).not.toContain('thandi.nkosi@capaciti.org.za');
    mailer.close();
  });
});
