import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { chooseLogFormat, createLogger } from './logger.js';

function sink() {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return { destination, text: () => chunks.join('') };
}

const base = { logLevel: 'info' as const, isProduction: false };

describe('logger', () => {
  it('is readable on a terminal in development and JSON otherwise, unless LOG_FORMAT says', () => {
    expect(chooseLogFormat({ ...base, logFormat: undefined }, true)).toBe('pretty');
    expect(chooseLogFormat({ ...base, logFormat: undefined }, false)).toBe('json');
    expect(chooseLogFormat({ logFormat: undefined, isProduction: true }, true)).toBe('json');
    expect(chooseLogFormat({ logFormat: 'json', isProduction: false }, true)).toBe('json');
    expect(chooseLogFormat({ logFormat: 'pretty', isProduction: true }, false)).toBe('pretty');
  });

  for (const logFormat of ['json', 'pretty'] as const) {
    it(`redacts credentials in ${logFormat} lines`, () => {
      const out = sink();
      const logger = createLogger({ ...base, logFormat }, { destination: out.destination });
      logger.info(
        {
          req: { headers: { authorization: 'Bearer eyJ-secret-token', cookie: 'sessionid=c00kie' } },
          body: { password: 'Hunter#2-Password', refresh: 'refresh-jwt' },
          job: 'sessions.cleanup',
        },
        'something happened',
      );
      const text = out.text();
      expect(text).toContain('something happened');
      expect(text).toContain('sessions.cleanup');
      for (const secret of ['eyJ-secret-token', 'c00kie', 'Hunter#2-Password', 'refresh-jwt'])
        expect(text).not.toContain(secret);
      expect(text).toContain('[redacted]');
      if (logFormat === 'json') expect(JSON.parse(text)).toMatchObject({ msg: 'something happened' });
      else expect(() => JSON.parse(text) as unknown).toThrow();
    });
  }
});
