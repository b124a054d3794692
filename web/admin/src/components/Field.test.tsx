// @vitest-environment jsdom
import { cleanup, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { Alert, Field, Select, TextArea } from './Field';

afterEach(cleanup);

describe('form fields', () => {
  it('labels the control and ties its hint to it', () => {
    render(<Field label="Tags" name="tags" hint="Separated by commas." />);
    const input = screen.getByRole('textbox', { name: 'Tags', description: 'Separated by commas.' });
    expect(input.getAttribute('aria-invalid')).toBeNull();
  });

  it('marks a field with errors invalid and reads the errors with it', () => {
    render(<TextArea label="Note" name="content" errors={['This field may not be blank.']} />);
    const area = screen.getByRole('textbox', { name: 'Note', description: /This field may not be blank\./ });
    expect(area.getAttribute('aria-invalid')).toBe('true');
    // The error is shown as text with a sign, not by colour alone.
    expect(screen.getByText(/This field may not be blank\./).textContent).toContain('⚠');
  });

  it('offers the options of a select under its label', () => {
    render(
      <Select
        label="Category"
        name="category"
        options={[
          ['general', 'General'],
          ['progress', 'Progress'],
        ]}
      />,
    );
    const select = screen.getByRole('combobox', { name: 'Category' });
    expect([...select.querySelectorAll('option')].map((o) => o.textContent)).toEqual(['General', 'Progress']);
  });

  it('announces problems as alerts and results as status, each with a word, not only a colour', () => {
    render(
      <>
        <Alert>Invalid email or password</Alert>
        <Alert tone="success">The note was saved.</Alert>
      </>,
    );
    expect(screen.getByRole('alert').textContent).toBe('Problem: Invalid email or password');
    expect(screen.getByRole('status').textContent).toBe('Done: The note was saved.');
  });
});
