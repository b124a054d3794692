import { describe, expect, it } from 'vitest';
import { containsNul, fieldsWithNul } from './null-characters.js';

describe('fieldsWithNul', () => {
  it('names the top-level field of a NUL at any depth, in values and keys', () => {
    expect(fieldsWithNul({ a: 'ok', b: 'x\u0000', c: { d: ['\u0000'] }, e: { 'k\u0000': 1 } })).toEqual([
      'b',
      'c',
      'e',
    ]);
    expect(fieldsWithNul({ 'a\u0000': 'x' })).toEqual(['non_field_errors']);
    expect(fieldsWithNul('\u0000')).toEqual(['non_field_errors']);
    expect(fieldsWithNul(['ok', '\u0000'])).toEqual(['non_field_errors']);
    expect(fieldsWithNul({ a: 'fine', n: 1, b: true, z: null })).toEqual([]);
    expect(fieldsWithNul(undefined)).toEqual([]);
  });

  it('walks very deep or very wide values without overflowing the stack', () => {
    let deep: unknown = '\u0000';
    for (let i = 0; i < 200_000; i += 1) deep = [deep];
    expect(containsNul(deep)).toBe(true);
    const wide = Array.from({ length: 500_000 }, () => 'x');
    expect(containsNul(wide)).toBe(false);
  });
});
