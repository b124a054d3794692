import { describe, it, expect } from 'vitest';
import { luhnValid, validateSaIdNumber } from './sa-id.js';

// Check digits computed with the client generator: base YYMMDD + SSSS + "08", then standard Luhn.
const VALID = ['9001015008088', '8001015009087', '8506150123089', '0002290001086'];

describe('luhnValid', () => {
  it('accepts known valid numbers', () => {
    for (const id of VALID) expect(luhnValid(id)).toBe(true);
    expect(luhnValid('79927398713')).toBe(true); // textbook Luhn example
  });

  it('rejects a wrong check digit and non-digits', () => {
    expect(luhnValid('9001015008089')).toBe(false);
    expect(luhnValid('79927398710')).toBe(false);
    expect(luhnValid('90010150080a8')).toBe(false);
    expect(luhnValid('')).toBe(false);
  });
});

describe('validateSaIdNumber', () => {
  it('accepts valid IDs and strips spaces', () => {
    for (const id of VALID) expect(validateSaIdNumber(id)).toEqual({ ok: true, value: id });
    expect(validateSaIdNumber(' 900101 5008 088 ')).toEqual({ ok: true, value: '9001015008088' });
  });

  it('requires exactly 13 digits', () => {
    const message = 'Invalid South African ID number. Must be 13 digits.';
    for (const id of ['', '900101500808', '90010150080888', '900101-500808', '90010150080a8']) {
      expect(validateSaIdNumber(id)).toEqual({ ok: false, message });
    }
  });

  it('checks month and day ranges', () => {
    expect(validateSaIdNumber('9013015008088')).toEqual({
      ok: false,
      message: 'Invalid ID number: month must be between 01 and 12',
    });
    expect(validateSaIdNumber('9000015008088')).toMatchObject({ ok: false });
    expect(validateSaIdNumber('9001325008088')).toEqual({
      ok: false,
      message: 'Invalid ID number: day must be between 01 and 31',
    });
    expect(validateSaIdNumber('9001005008088')).toMatchObject({ ok: false });
  });

  it('rejects impossible calendar dates in both centuries', () => {
    const message = 'Invalid ID number: date of birth is not a real date';
    expect(validateSaIdNumber('3102305008089')).toEqual({ ok: false, message }); // 30 Feb
    expect(validateSaIdNumber('9004315008088')).toEqual({ ok: false, message }); // 31 Apr
    expect(validateSaIdNumber('0102295008088')).toEqual({ ok: false, message }); // 29 Feb 1901/2001
  });

  it('accepts 29 Feb when either century is a leap year', () => {
    expect(validateSaIdNumber('0002290001086')).toEqual({ ok: true, value: '0002290001086' }); // 2000
  });

  it('rejects a bad check digit', () => {
    expect(validateSaIdNumber('9001015008089')).toEqual({
      ok: false,
      message: 'Invalid ID number: check digit does not match',
    });
  });
});
