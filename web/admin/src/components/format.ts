/** A date-time as people at the programme read it (South African time). */
export const when = (iso: string | null | undefined) =>
  iso
    ? new Date(iso).toLocaleString('en-ZA', {
        dateStyle: 'medium',
        timeStyle: 'short',
        timeZone: 'Africa/Johannesburg',
      })
    : '–';

export const plural = (n: number, word: string) => `${String(n)} ${word}${n === 1 ? '' : 's'}`;
