// @vitest-environment jsdom
import { cleanup, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Jobs } from './Jobs';

/**
 * A fresh service has no failed job, so the end-to-end test only sees the empty page; this one gives the
 * page the service's answers for a failed e-mail job and checks the retry.
 */
const me = { id: 1, email: 'root@capaciti.org.za', first_name: 'Root', last_name: '', role: 'superuser' };
const failed = {
  count: 1,
  results: [
    {
      id: 'job-7',
      job: 'email.send',
      attempts: 5,
      failed_at: '2026-12-07T10:00:00Z',
      reason: 'SMTP refused: 550 mailbox unavailable (r***@example.org)',
    },
  ],
};

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe('background jobs page', () => {
  it('lists a failed job with its reason and runs it again', async () => {
    const calls: string[] = [];
    const answers = [
      json(200, failed),
      json(202, { message: 'queued' }),
      json(200, { count: 0, results: [] }),
    ];
    vi.stubGlobal(
      'fetch',
      vi.fn((request: Request) => {
        calls.push(`${request.method} ${new URL(request.url).pathname}`);
        return Promise.resolve(answers.shift() ?? json(500, {}));
      }),
    );
    render(<Jobs me={me} onSignOut={() => undefined} />);
    const row = await screen.findByRole('row', { name: /email\.send/ });
    expect(row.textContent).toContain('SMTP refused: 550 mailbox unavailable');
    expect(row.textContent).toContain('5');
    await userEvent.click(screen.getByRole('button', { name: 'Run again: email.send job-7' }));
    expect((await screen.findByText(/will run again/)).textContent).toContain(
      'email.send (job-7) will run again.',
    );
    expect(await screen.findByText('No job has failed.')).toBeTruthy();
    expect(calls).toEqual([
      'GET /api/admin/jobs/failed/',
      'POST /api/admin/jobs/failed/job-7/retry/',
      'GET /api/admin/jobs/failed/',
    ]);
  });

  it('shows the refusal of a retry as an alert', async () => {
    const answers = [json(200, failed), json(404, { detail: 'Job not found', code: 'not_found' })];
    vi.stubGlobal(
      'fetch',
      vi.fn(() => Promise.resolve(answers.shift() ?? json(500, {}))),
    );
    render(<Jobs me={me} onSignOut={() => undefined} />);
    await userEvent.click(await screen.findByRole('button', { name: 'Run again: email.send job-7' }));
    expect((await screen.findByRole('alert')).textContent).toBe('Problem: Job not found');
  });
});
