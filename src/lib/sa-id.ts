// South African ID number: YYMMDD SSSS C A Z, where Z is a Luhn check digit over all 13 digits.
export type SaIdResult = { ok: true; value: string } | { ok: false; message: string };

/** Standard Luhn: double every second digit from the right (the check digit itself is not doubled). */
export function luhnValid(digits: string): boolean {
  if (!/^\d+$/.test(digits)) return false;
  let sum = 0;
  for (let i = digits.length - 1, double = false; i >= 0; i--, double = !double) {
    let n = digits.charCodeAt(i) - 48;
    if (double) {
      n *= 2;
      if (n > 9) n -= 9;
    }
    sum += n;
  }
  return sum % 10 === 0;
}

function isRealDate(year: number, month: number, day: number): boolean {
  // setUTCFullYear rolls invalid days over (Feb 30 -> Mar 2), which the comparison below detects.
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  return d.getUTCMonth() === month - 1 && d.getUTCDate() === day;
}

export function validateSaIdNumber(raw: string): SaIdResult {
  const value = raw.replace(/ /g, '');
  if (!/^\d{13}$/.test(value)) {
    return { ok: false, message: 'Invalid South African ID number. Must be 13 digits.' };
  }
  const yy = Number(value.slice(0, 2));
  const month = Number(value.slice(2, 4));
  const day = Number(value.slice(4, 6));
  if (month < 1 || month > 12) {
    return { ok: false, message: 'Invalid ID number: month must be between 01 and 12' };
  }
  if (day < 1 || day > 31) {
    return { ok: false, message: 'Invalid ID number: day must be between 01 and 31' };
  }
  // The century is not encoded, so accept the date if it exists in either 19YY or 20YY (e.g. 29 Feb of "00").
  if (!isRealDate(1900 + yy, month, day) && !isRealDate(2000 + yy, month, day)) {
    return { ok: false, message: 'Invalid ID number: date of birth is not a real date' };
  }
  if (!luhnValid(value)) {
    return { ok: false, message: 'Invalid ID number: check digit does not match' };
  }
  return { ok: true, value };
}
