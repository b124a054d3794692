import { describe, expect, it } from 'vitest';
import { testConfig } from '../../../test/helpers/env.js';
import { createMailer } from './mailer.js';

describe('mailer delivery (the email.send job)', () => {
  it('delivers once to the memory backend and reports it', async () => {
    const outcomes: string[] = [];
    const mailer = createMailer(
      testConfig(),
      { info: () => undefined, warn: () => undefined, error: () => undefined },
      (_t, o) => outcomes.push(o),
    );
    await mailer.deliver({
      template: 'welcome',
      to: 'jane@example.com',
      data: { name: 'Jane', loginUrl: 'http://x/login' },
    });
    expect(mailer.sent.map((m) => [m.template, m.to])).toEqual([['welcome', 'jane@example.com']]);
    expect(outcomes).toEqual(['sent']);
  });

  it('throws when the server refuses (the queue retries) and reports the failed attempt', async () => {
    const outcomes: string[] = [];
    const config = testConfig({
      EMAIL_BACKEND: 'smtp',
      EMAIL_HOST: '127.0.0.1',
      EMAIL_PORT: '9',
      EMAIL_USE_TLS: 'false',
    });
    const mailer = createMailer(
      config,
      { info: () => undefined, warn: () => undefined, error: () => undefined },
      (_t, o) => outcomes.push(o),
    );
    await expect(
      mailer.deliver({
        template: 'welcome',
        to: 'thandi@capaciti.org.za',
        data: { name: 'T', loginUrl: 'http://x' },
      }),
    ).rejects.toThrow();
    expect(outcomes).toEqual(['failed']);
    mailer.close();
  });

  it('refuses a malformed job instead of sending something else', async () => {
    const mailer = createMailer(testConfig(), {
      info: () => undefined,
      warn: () => undefined,
      error: () => undefined,
    });
    await expect(mailer.deliver({ template: 'no_such_template', to: 'a@b.co', data: {} })).rejects.toThrow(
      'malformed',
    );
    expect(mailer.sent).toHaveLength(0);
  });
});
