// Timestamp formatting that matches the Django API's output (microsecond fraction, numeric offset).

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** "+02:00" style offset; UTC is written "+00:00" (never "Z") to match Django. */
function formatOffset(offsetMinutes: number): string {
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  return `${sign}${pad(Math.floor(abs / 60), 2)}:${pad(abs % 60, 2)}`;
}

/** Django emits 6 fraction digits; JS only has milliseconds, so pad them. Omitted at .000 like Python. */
function fraction(ms: number): string {
  return ms === 0 ? '' : `.${pad(ms, 3)}000`;
}

const DAY_MS = 86_400_000;

export function createTimestampFormatter(timeZone: string): (d: Date) => string {
  // One formatter per zone, created up front: constructing Intl.DateTimeFormat is expensive.
  const dtf = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  });

  /** Offset in minutes at instant t: the zone's wall clock read as if it were UTC, minus t. */
  const offsetAt = (t: number): number => {
    const f: Record<string, number> = {};
    for (const part of dtf.formatToParts(t)) {
      if (part.type !== 'literal') f[part.type] = Number(part.value);
    }
    const wall = Date.UTC(
      f.year ?? 0,
      (f.month ?? 1) - 1,
      f.day ?? 1,
      f.hour ?? 0,
      f.minute ?? 0,
      f.second ?? 0,
    );
    return Math.round((wall - (t - (((t % 1000) + 1000) % 1000))) / 60_000);
  };

  // formatToParts costs microseconds, so offsets are cached per UTC day. A day whose first and last
  // millisecond share an offset has no DST change; transition days (null) are resolved per call.
  const dayOffsets = new Map<number, number | null>();
  const offsetFor = (t: number): number => {
    const day = Math.floor(t / DAY_MS);
    let cached = dayOffsets.get(day);
    if (cached === undefined) {
      const first = offsetAt(day * DAY_MS);
      cached = first === offsetAt(day * DAY_MS + DAY_MS - 1) ? first : null;
      if (dayOffsets.size >= 4096) dayOffsets.clear(); // bound memory for long-running processes
      dayOffsets.set(day, cached);
    }
    return cached ?? offsetAt(t);
  };

  return (d: Date): string => {
    const t = d.getTime();
    const offset = offsetFor(t);
    // Shifting by the offset lets the cheap getUTC* accessors read the zone's wall clock.
    const w = new Date(t + offset * 60_000);
    return (
      `${pad(w.getUTCFullYear(), 4)}-${pad(w.getUTCMonth() + 1, 2)}-${pad(w.getUTCDate(), 2)}` +
      `T${pad(w.getUTCHours(), 2)}:${pad(w.getUTCMinutes(), 2)}:${pad(w.getUTCSeconds(), 2)}` +
      `${fraction(w.getUTCMilliseconds())}${formatOffset(offset)}`
    );
  };
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/** YYYY-MM-DD. Dates use their UTC calendar day; a YYYY-MM-DD string is passed through unchanged. */
export function formatDate(d: Date | string): string {
  if (typeof d === 'string') {
    if (DATE_ONLY.test(d)) return d;
    d = new Date(d);
  }
  if (Number.isNaN(d.getTime())) throw new RangeError('Invalid date');
  return d.toISOString().slice(0, 10);
}

export function utcToday(now: Date): string {
  return formatDate(now);
}

/** Calendar arithmetic in UTC so DST never shifts the result by a day. */
export function addDays(dateStr: string, n: number): string {
  if (!DATE_ONLY.test(dateStr)) throw new RangeError(`Invalid date string: ${dateStr}`);
  const [y, m, day] = dateStr.split('-').map(Number) as [number, number, number];
  return formatDate(new Date(Date.UTC(y, m - 1, day + n)));
}

export function formatUtcIso(d: Date): string {
  const iso = d.toISOString(); // always UTC: 2026-11-25T00:26:29.186Z
  return `${iso.slice(0, 19)}${fraction(d.getUTCMilliseconds())}+00:00`;
}
