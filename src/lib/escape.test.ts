import { describe, it, expect } from 'vitest';
import { escapeText } from './escape.js';

describe('escapeText', () => {
  it('trims and escapes the five HTML-significant characters', () => {
    expect(escapeText(`  <a href="x">Tom & Jerry's</a>\n`)).toBe(
      '&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#x27;s&lt;/a&gt;',
    );
  });

  it('escapes an already-escaped string again', () => {
    expect(escapeText('&amp;')).toBe('&amp;amp;');
    expect(escapeText('&lt;')).toBe('&amp;lt;');
  });

  it('leaves plain text alone', () => {
    expect(escapeText('plain text ✓')).toBe('plain text ✓');
    expect(escapeText('   ')).toBe('');
  });
});
