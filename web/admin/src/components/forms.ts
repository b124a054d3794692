import type { SyntheticEvent } from 'react';

/** A form's submit event. */
export type Submit = SyntheticEvent<HTMLFormElement>;

/** The text a form field holds ('' when the field is missing or is a file). */
export function fieldText(form: FormData, name: string): string {
  const value = form.get(name);
  return typeof value === 'string' ? value : '';
}
