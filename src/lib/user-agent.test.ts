import { describe, it, expect } from 'vitest';
import { describeUserAgent } from './user-agent.js';

const CHROME_WIN =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';
const IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1';
const IPAD =
  'Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1';
const ANDROID =
  'Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.6045.163 Mobile Safari/537.36';
const FIREFOX_UBUNTU = 'Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0';

describe('describeUserAgent', () => {
  it('returns unknown/empty for an absent header', () => {
    const empty = { deviceType: 'unknown', browser: '', os: '', userAgent: '' };
    expect(describeUserAgent(undefined)).toEqual(empty);
    expect(describeUserAgent(null)).toEqual(empty);
    expect(describeUserAgent('')).toEqual(empty);
  });

  it('describes a desktop browser', () => {
    expect(describeUserAgent(CHROME_WIN)).toEqual({
      deviceType: 'pc',
      browser: 'Chrome 120.0.0',
      os: 'Windows 10',
      userAgent: CHROME_WIN,
    });
    expect(describeUserAgent(FIREFOX_UBUNTU)).toMatchObject({
      deviceType: 'pc',
      browser: 'Firefox 120.0',
      os: 'Ubuntu', // no version: family only
    });
  });

  it('detects phones and tablets', () => {
    expect(describeUserAgent(IPHONE)).toMatchObject({ deviceType: 'mobile', os: 'iOS 17.1' });
    expect(describeUserAgent(IPAD)).toMatchObject({ deviceType: 'tablet' });
    expect(describeUserAgent(ANDROID)).toMatchObject({
      deviceType: 'mobile',
      browser: 'Chrome 119.0.6045',
      os: 'Android 13',
    });
  });

  it('detects bots and scripted clients', () => {
    for (const ua of [
      'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
      'curl/8.4.0',
      'Wget/1.21',
      'python-requests/2.31.0',
      'Apache-HttpClient/4.5.14 (Java/17)',
      'Mozilla/5.0 (compatible; SomeCrawler/1.0)',
    ]) {
      expect(describeUserAgent(ua).deviceType).toBe('bot');
    }
  });

  it('falls back to unknown for unrecognised agents', () => {
    expect(describeUserAgent('something weird')).toEqual({
      deviceType: 'unknown',
      browser: '',
      os: '',
      userAgent: 'something weird',
    });
  });

  it('truncates the stored header to 500 characters and labels to 100', () => {
    const long = `${CHROME_WIN} ${'x'.repeat(1000)}`;
    const info = describeUserAgent(long);
    expect(info.userAgent).toHaveLength(500);
    expect(info.userAgent).toBe(long.slice(0, 500));
    expect(info.browser).toBe('Chrome 120.0.0');
    const hugeVersion = describeUserAgent(`Mozilla/5.0 (Windows NT 10.0) Firefox/1${'1'.repeat(200)}`);
    expect(hugeVersion.browser.length).toBeLessThanOrEqual(100);
  });
});
