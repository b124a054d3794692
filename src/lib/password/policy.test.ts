import { describe, it, expect } from 'vitest';
import { dictionary } from '@zxcvbn-ts/language-common';
import { checkPasswordPolicy, isCommonPassword, quickRatio } from './policy.js';

const TOO_SHORT = 'This password is too short. It must contain at least 12 characters.';
const TOO_COMMON = 'This password is too common.';
const NUMERIC = 'This password is entirely numeric.';
const MIN_LENGTH = 'Password must be at least 12 characters long.';
const NEED_UPPER = 'Password must contain at least one uppercase letter.';
const NEED_LOWER = 'Password must contain at least one lowercase letter.';
const NEED_DIGIT = 'Password must contain at least one number.';
const NEED_SPECIAL = 'Password must contain at least one special character (!@#$%^&*()_+-=[]{}|;:,.<>?).';
const SIMILAR_EMAIL = 'The password is too similar to the email.';
const SIMILAR_FIRST = 'The password is too similar to the first name.';
const SIMILAR_LAST = 'The password is too similar to the last name.';

const thandiwe = { email: 'thandiwe.nkosi@capaciti.org.za', firstName: 'Thandiwe', lastName: 'Nkosi' };

describe('quickRatio (values from CPython difflib)', () => {
  it.each([
    ['abcd', 'bcde', 0.75],
    ['', '', 1],
    ['abc', '', 0],
    ['aab', 'abb', 2 / 3], // repeated characters count once per occurrence on both sides
    ['😀a', '😀b', 0.5], // code points, not UTF-16 units
    ['thandiwe.nkosi', 'thandiwe', 0.7272727272727273],
    ['thandiwe.nkosi1', 'thandiwe', 0.6956521739130435],
  ])('quickRatio(%j, %j) = %d', (a, b, expected) => {
    expect(quickRatio(a, b)).toBe(expected);
  });
});

describe('isCommonPassword', () => {
  it('uses the full zxcvbn list (at least 20,000 entries)', () => {
    expect(dictionary.passwords.length).toBeGreaterThanOrEqual(20_000);
    expect(isCommonPassword(dictionary.passwords.at(-1)!)).toBe(true);
  });

  it('trims and ignores case, like Django', () => {
    expect(isCommonPassword('  PassWord1234 ')).toBe(true);
    expect(isCommonPassword('Tq9!abcdef12#Lm4')).toBe(false);
  });
});

describe('checkPasswordPolicy', () => {
  it('accepts a strong password', () => {
    expect(checkPasswordPolicy('Tq9!abcdef12#Lm4')).toEqual([]);
    expect(checkPasswordPolicy('Tq9!abcdef12#Lm4', thandiwe)).toEqual([]);
  });

  it('rejects a common password', () => {
    expect(checkPasswordPolicy('password1234')).toEqual([TOO_COMMON, NEED_UPPER]);
  });

  it('reports only the first complexity failure', () => {
    // "short" is also on the common list; the complexity rule stops at length, before upper-case.
    expect(checkPasswordPolicy('short')).toEqual([TOO_SHORT, TOO_COMMON, MIN_LENGTH]);
  });

  it('flags an entirely numeric password', () => {
    expect(checkPasswordPolicy('123456789012')).toEqual([TOO_COMMON, NUMERIC, NEED_UPPER]);
    // Python's str.isdigit() accepts any decimal digit, e.g. Arabic-Indic.
    expect(checkPasswordPolicy('١٢٣٤٥٦٧٨٩٠١٢')).toContain(NUMERIC);
  });

  it.each([
    ['ABCDEFGH1234!', NEED_LOWER],
    ['Abcdefghijk!', NEED_DIGIT],
    ['Abcdefgh1234', NEED_SPECIAL],
    ['Abcdefgh_1234', NEED_SPECIAL], // `_` is a word character, not special
    ['Abcdefgh 1234', NEED_SPECIAL], // neither is whitespace
  ])('%j fails with %j', (password, message) => {
    expect(checkPasswordPolicy(password)).toEqual([message]);
  });

  it('treats non-ASCII letters as upper/lower case', () => {
    expect(checkPasswordPolicy('zzzz#2024ñÑxyz')).toEqual([]);
  });

  it('counts length in code points, as Python does', () => {
    // 11 code points but 17 UTF-16 units.
    expect(checkPasswordPolicy('😀😀😀😀😀😀Aa1!x')).toEqual([TOO_SHORT, MIN_LENGTH]);
  });

  it('skips user checks when no user is given', () => {
    expect(checkPasswordPolicy('Thandiwe.nkosi#1')).toEqual([]);
  });
});

describe('checkPasswordPolicy similarity (Django UserAttributeSimilarityValidator)', () => {
  it('flags a password too similar to a part of the email', () => {
    const messages = checkPasswordPolicy('thandiwe.nkosi', { email: thandiwe.email });
    expect(messages[0]).toBe(SIMILAR_EMAIL);
  });

  it('does not flag just below the threshold (0.6957 for thandiwe.nkosi1)', () => {
    expect(checkPasswordPolicy('thandiwe.nkosi1', { email: thandiwe.email })).not.toContain(SIMILAR_EMAIL);
  });

  it('flags a ratio of exactly 0.7 but not 0.6', () => {
    expect(checkPasswordPolicy('abcdefgxyz', { firstName: 'abcdefghij' })).toContain(SIMILAR_FIRST);
    expect(checkPasswordPolicy('abcdefxyzw', { firstName: 'abcdefghij' })).not.toContain(SIMILAR_FIRST);
  });

  it('reports each similar attribute once, in order', () => {
    const messages = checkPasswordPolicy('Nkosi', { ...thandiwe, firstName: 'Nkosi' });
    expect(messages.slice(0, 3)).toEqual([SIMILAR_EMAIL, SIMILAR_FIRST, SIMILAR_LAST]);
  });

  it('splits attributes on Unicode non-word runs, like Python', () => {
    // An ASCII /\W+/ split would yield "zo" and miss this.
    expect(checkPasswordPolicy('zoë!', { email: 'zoë.mkhize@x.co' })).toContain(SIMILAR_EMAIL);
  });

  it('ignores empty or missing attributes', () => {
    expect(checkPasswordPolicy('', { email: null, firstName: '' })).toEqual([TOO_SHORT, MIN_LENGTH]);
  });
});

describe('checkPasswordPolicy personal-data containment', () => {
  it('rejects a password containing the first name', () => {
    expect(checkPasswordPolicy('MyThandiwe#2024x', { firstName: 'Thandiwe' })).toEqual([
      'Password cannot contain your first name.',
    ]);
  });

  it('checks the email username first and reports only one', () => {
    expect(
      checkPasswordPolicy('Xx9!lerato.m-Qz7', { email: 'lerato.m@capaciti.org.za', firstName: 'Lerato' }),
    ).toEqual(['Password cannot contain your email username.']);
  });

  it('rejects a password containing the last name', () => {
    expect(checkPasswordPolicy('Qz7!nkosiXx9#Ab', { lastName: 'NKOSI' })).toEqual([
      'Password cannot contain your last name.',
    ]);
  });

  it('ignores values shorter than 3 characters', () => {
    expect(checkPasswordPolicy('Al#Strong9pass', { email: 'al@x.co', firstName: 'Al' })).toEqual([]);
  });
});
