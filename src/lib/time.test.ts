import { describe, it, expect } from 'vitest';
import { addDays, createTimestampFormatter, formatDate, formatUtcIso, utcToday } from './time.js';

describe('createTimestampFormatter', () => {
  it('formats Johannesburg (+02:00, no DST) with 6 fraction digits', () => {
    const fmt = createTimestampFormatter('Africa/Johannesburg');
    expect(fmt(new Date('2026-11-25T00:26:29.186Z'))).toBe('2026-11-25T02:26:29.186000+02:00');
    expect(fmt(new Date('2026-06-25T00:26:29.007Z'))).toBe('2026-06-25T02:26:29.007000+02:00');
  });

  it('omits the fraction when milliseconds are zero', () => {
    const fmt = createTimestampFormatter('Africa/Johannesburg');
    expect(fmt(new Date('2026-12-02T00:26:29.000Z'))).toBe('2026-12-02T02:26:29+02:00');
  });

  it('follows DST in Europe/London', () => {
    const fmt = createTimestampFormatter('Europe/London');
    expect(fmt(new Date('2026-07-01T12:00:00.500Z'))).toBe('2026-07-01T13:00:00.500000+01:00');
    expect(fmt(new Date('2026-01-15T12:00:00.500Z'))).toBe('2026-01-15T12:00:00.500000+00:00');
    // Around the 2026-03-29 01:00Z spring-forward transition.
    expect(fmt(new Date('2026-03-29T00:59:59Z'))).toBe('2026-03-29T00:59:59+00:00');
    expect(fmt(new Date('2026-03-29T01:00:00Z'))).toBe('2026-03-29T02:00:00+01:00');
  });

  it('handles negative and fractional-hour offsets and day rollover', () => {
    expect(createTimestampFormatter('America/New_York')(new Date('2026-01-01T03:00:00Z'))).toBe(
      '2025-12-31T22:00:00-05:00',
    );
    expect(createTimestampFormatter('Asia/Kolkata')(new Date('2026-01-01T00:00:00Z'))).toBe(
      '2026-01-01T05:30:00+05:30',
    );
  });

  it('is exact on both sides of the autumn fall-back transition (same local hour twice)', () => {
    const fmt = createTimestampFormatter('Europe/London');
    expect(fmt(new Date('2026-10-25T00:30:00Z'))).toBe('2026-10-25T01:30:00+01:00');
    expect(fmt(new Date('2026-10-25T01:30:00Z'))).toBe('2026-10-25T01:30:00+00:00');
    expect(fmt(new Date('2026-10-25T00:59:59.999Z'))).toBe('2026-10-25T01:59:59.999000+01:00');
    expect(fmt(new Date('2026-10-25T01:00:00Z'))).toBe('2026-10-25T01:00:00+00:00');
  });

  it('round-trips to the same instant across two years of DST changes', () => {
    for (const zone of ['Europe/London', 'America/New_York', 'Australia/Lord_Howe']) {
      const fmt = createTimestampFormatter(zone);
      for (let t = Date.UTC(2025, 0, 1); t < Date.UTC(2027, 0, 1); t += 3_600_000 * 7 + 1_234) {
        expect(new Date(fmt(new Date(t))).getTime()).toBe(t);
      }
    }
  });

  it('writes UTC as +00:00 and stays correct across repeated calls', () => {
    const fmt = createTimestampFormatter('UTC');
    expect(fmt(new Date('2026-11-25T00:26:29.186Z'))).toBe('2026-11-25T00:26:29.186000+00:00');
    expect(fmt(new Date('2026-11-25T00:26:29.999Z'))).toBe('2026-11-25T00:26:29.999000+00:00');
    expect(fmt(new Date('2026-11-25T00:26:30Z'))).toBe('2026-11-25T00:26:30+00:00');
  });

  it('handles pre-1970 instants (negative epoch milliseconds)', () => {
    expect(createTimestampFormatter('UTC')(new Date('1969-12-31T23:59:59.250Z'))).toBe(
      '1969-12-31T23:59:59.250000+00:00',
    );
  });
});

describe('formatDate / utcToday / addDays', () => {
  it('uses UTC parts for Dates and passes date strings through', () => {
    expect(formatDate(new Date('2026-11-25T23:30:00-02:00'))).toBe('2026-11-26');
    expect(formatDate('2026-02-03')).toBe('2026-02-03');
    expect(utcToday(new Date('2026-11-25T23:59:59.999Z'))).toBe('2026-11-25');
  });

  it('adds and subtracts days across month, year and leap boundaries', () => {
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(addDays('2028-03-01', -1)).toBe('2028-02-29');
    expect(addDays('2026-03-29', 0)).toBe('2026-03-29');
    expect(addDays('2026-01-01', -365)).toBe('2025-01-01');
  });

  it('rejects invalid input', () => {
    expect(() => addDays('2026/01/01', 1)).toThrow(RangeError);
    expect(() => formatDate(new Date(NaN))).toThrow(RangeError);
  });
});

describe('formatUtcIso', () => {
  it('always writes +00:00', () => {
    expect(formatUtcIso(new Date('2026-11-25T02:26:29.186+02:00'))).toBe('2026-11-25T00:26:29.186000+00:00');
    expect(formatUtcIso(new Date('2026-11-25T00:26:29Z'))).toBe('2026-11-25T00:26:29+00:00');
  });
});
