import { describe, it, expect } from 'vitest';
import { normalisePhone } from './phone.js';

const FORMAT = { ok: false, message: 'Invalid phone number format. Use format: +27XXXXXXXXX or 0XXXXXXXXX' };

describe('normalisePhone', () => {
  it('normalises valid South African numbers to E.164', () => {
    expect(normalisePhone('+27821234567', 20)).toEqual({ ok: true, value: '+27821234567' });
    expect(normalisePhone('082 123 4567', 20)).toEqual({ ok: true, value: '+27821234567' });
    expect(normalisePhone('0821234567', 20)).toEqual({ ok: true, value: '+27821234567' });
    expect(normalisePhone('082-123-4567', 20)).toEqual({ ok: true, value: '+27821234567' });
    expect(normalisePhone('011 555 1234', 20)).toEqual({ ok: true, value: '+27115551234' });
  });

  it('rejects numbers that do not match the expected shape', () => {
    expect(normalisePhone('not-a-phone', 20)).toEqual(FORMAT);
    expect(normalisePhone('+1 415 555 2671', 20)).toEqual(FORMAT);
    expect(normalisePhone('', 20)).toEqual(FORMAT);
    expect(normalisePhone('08212', 20)).toEqual(FORMAT);
  });

  it('rejects well-shaped numbers that libphonenumber says are invalid', () => {
    expect(normalisePhone('0001234567', 20)).toEqual(FORMAT);
  });

  it('enforces the maximum length on the raw input', () => {
    expect(normalisePhone('082 123 4567', 11)).toEqual({
      ok: false,
      message: 'Ensure this field has no more than 11 characters.',
    });
    expect(normalisePhone('0821234567', 10)).toEqual({ ok: true, value: '+27821234567' });
  });
});
