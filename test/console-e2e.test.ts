/**
 * The staff console end to end (docs/console.md): the console is built, the real service runs in its own
 * process on the embedded database (as `npm start` runs it), and Debian's Chromium, driven by Playwright,
 * does what a member of staff does: first sign-in with 2FA enrolment, find a candidate, write a note, sign
 * a person out everywhere, sign in again with a backup code. axe checks every page it meets.
 * With CONSOLE_SCREENSHOTS=1 it also writes a screenshot of each page to docs/console/.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AxeBuilder } from '@axe-core/playwright';
import * as OTPAuth from 'otpauth';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CHROMIUM = '/usr/bin/chromium';
const SUPERUSER = { email: 'console.root@capaciti.org.za', password: 'Console-Root-Pass-2026!q' };
const CANDIDATE = {
  email: 'thandi.console@capaciti.org.za',
  password: 'Violet-Harbour-2026!z',
  first_name: 'Thandi',
  last_name: 'Console',
};
const ACCESS_TTL = 30;
const screenshots = process.env.CONSOLE_SCREENSHOTS === '1' ? path.join(root, 'docs/console') : null;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port'));
      });
    });
  });
}

async function waitForReady(base: string, child: ChildProcess, log: () => string): Promise<void> {
  for (let i = 0; i < 120; i += 1) {
    if (child.exitCode !== null) throw new Error(`the service exited:\n${log()}`);
    try {
      const res = await fetch(`${base}/health/ready/`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`the service did not become ready:\n${log()}`);
}

/** No axe violation on the page as it is now (WCAG 2.0–2.2 A and AA rules). */
async function expectAccessible(page: Page, name: string): Promise<void> {
  const result = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'])
    .analyze();
  const found = result.violations.map(
    (v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join('; ')})`,
  );
  expect(found, `axe on ${name}`).toEqual([]);
  if (screenshots) await page.screenshot({ path: path.join(screenshots, `${name}.png`), fullPage: true });
}

const runIf = existsSync(CHROMIUM) && !process.env.TEST_DATABASE_URL;

// The console runs against the embedded database only (as `npm start` does); Chromium comes from
// Debian (.ci/run installs it). Without Chromium this suite cannot run, and says so as skipped.
describe.runIf(runIf)('staff console in a real browser', { timeout: 90_000 }, () => {
  let service: ChildProcess;
  let browser: Browser;
  let page: Page;
  let base = '';
  let output = '';
  let totpSecret = '';
  let backupCodes: string[] = [];
  const work = mkdtempSync(path.join(tmpdir(), 'pss-console-'));

  beforeAll(async () => {
    const consoleDir = path.join(work, 'console');
    await build({
      configFile: path.join(root, 'web/admin/vite.config.ts'),
      logLevel: 'error',
      build: { outDir: consoleDir, emptyOutDir: true },
    });
    const port = await freePort();
    base = `http://127.0.0.1:${String(port)}`;
    service = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'src/main.ts')], {
      cwd: root,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        APP_ENV: 'development',
        HOST: '127.0.0.1',
        PORT: String(port),
        DATA_DIR: path.join(work, 'data'),
        CONSOLE_DIR: consoleDir,
        LOG_LEVEL: 'warn',
        LOG_FORMAT: 'json',
        ACCESS_TOKEN_TTL: String(ACCESS_TTL),
        DJANGO_SUPERUSER_EMAIL: SUPERUSER.email,
        DJANGO_SUPERUSER_PASSWORD: SUPERUSER.password,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    service.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    service.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    await waitForReady(base, service, () => output.slice(-3000));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    if (screenshots) mkdirSync(screenshots, { recursive: true });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    service?.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    rmSync(work, { recursive: true, force: true });
  });

  const totp = () =>
    new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(totpSecret), digits: 6, period: 30 }).generate();

  it('first sign-in of the bootstrap superuser enrols 2FA with the QR code and shows the backup codes', async () => {
    await page.goto(`${base}/admin/`);
    await expect
      .poll(() => page.getByRole('heading', { level: 1 }).textContent())
      .toBe('Sign in to the PSS staff console');
    await expectAccessible(page, 'sign-in');
    await page.getByLabel('E-mail address').fill(SUPERUSER.email);
    await page.getByLabel('Password').fill('wrong-password-123');
    await page.getByRole('button', { name: 'Continue' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('Invalid email or password');

    await page.getByLabel('Password').fill(SUPERUSER.password);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('heading', { name: 'Set up two-step sign-in' }).waitFor();
    const qr = page.getByRole('img', { name: /QR code/ });
    expect(
      await qr.evaluate((img) => {
        const i = img as unknown as { complete: boolean; naturalWidth: number };
        return i.complete && i.naturalWidth > 0;
      }),
    ).toBe(true);
    totpSecret = (await page.locator('code.secret').textContent()) ?? '';
    expect(totpSecret).toMatch(/^[A-Z2-7]{32}$/);
    await expectAccessible(page, 'enrol-2fa');

    await page.getByLabel('6-digit code from the app').fill('000000');
    await page.getByRole('button', { name: 'Turn on two-step sign-in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('Invalid TOTP code');
    await page.getByLabel('6-digit code from the app').fill(totp());
    await page.getByRole('button', { name: 'Turn on two-step sign-in' }).click();
    await page.getByRole('heading', { name: 'Save your backup codes' }).waitFor();
    backupCodes = await page.locator('ul.codes code').allTextContents();
    expect(backupCodes).toHaveLength(10);
    await expectAccessible(page, 'backup-codes');
    await page.getByRole('button', { name: 'I have saved my backup codes' }).click();
    await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
  });

  it('shows the programme figures on the dashboard', async () => {
    const register = await fetch(`${base}/api/auth/register/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'Candidate phone' },
      body: JSON.stringify(CANDIDATE),
    });
    expect(register.status, await register.clone().text()).toBe(201);
    const { access } = (await register.json()) as { access: string };
    const intake = await fetch(`${base}/api/intake/submit/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${access}` },
      body: JSON.stringify({
        intake_data: { accommodations: 'Captions on recorded lectures', learning_style: 'visual' },
      }),
    });
    expect(intake.status, await intake.clone().text()).toBe(200);
    // Five days of journal, two of them with barriers, for the chart.
    for (const [daysAgo, barriers] of [
      [1, 0],
      [2, 2],
      [4, 0],
      [6, 1],
      [9, 0],
    ] as const) {
      const date = new Date(Date.now() - daysAgo * 86_400_000).toISOString().slice(0, 10);
      const res = await fetch(`${base}/api/journal/`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${access}` },
        body: JSON.stringify({
          date,
          mood: 'good',
          energy_level: 6,
          activities: 'Module work',
          barrier_count: barriers,
        }),
      });
      expect(res.status, await res.clone().text()).toBe(201);
    }
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    const candidates = page.getByRole('definition').first();
    await expect.poll(() => candidates.textContent()).toBe('1');
    // The chart says in words what it shows; its figures are also a table.
    await page.getByRole('img', { name: /^Chart: 5 journal entries and 3 barriers from / }).waitFor();
    await page.getByText('The figures as a table').click();
    expect(
      await page
        .getByRole('table', { name: 'Journal entries and barriers per day' })
        .locator('tbody tr')
        .count(),
    ).toBe(30);
    await expectAccessible(page, 'dashboard');
  });

  it('finds a candidate, reads the profile and writes a note with tags', async () => {
    await page.getByRole('link', { name: 'Candidates' }).click();
    await page.getByRole('heading', { level: 1, name: 'Candidates' }).waitFor();
    await page.getByLabel('Name or e-mail contains').fill('thandi');
    await page.getByRole('button', { name: 'Search' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toBe('1 candidate found');
    await expectAccessible(page, 'candidates');
    await page.getByRole('link', { name: 'Thandi Console' }).click();
    await page.getByRole('heading', { level: 1, name: 'Thandi Console' }).waitFor();
    await page.getByRole('heading', { name: 'Profile' }).waitFor();
    await expect
      .poll(() => page.getByRole('definition').filter({ hasText: 'Captions on recorded lectures' }).count())
      .toBe(1);

    // The intake submission, reviewed.
    const submission = page.getByRole('region', { name: 'Intake submissions' });
    await expect.poll(() => submission.textContent()).toContain('Waiting for review');
    await submission.getByLabel('Review', { exact: true }).selectOption('needs_follow_up');
    await submission.getByLabel('Review notes').fill('Check the captioning request with the trainer');
    await submission.getByRole('button', { name: 'Save the review' }).click();
    await expect.poll(() => submission.textContent()).toContain('Needs follow-up');
    await expect.poll(() => submission.textContent()).toContain('notes: Check the captioning request');

    await page.getByRole('button', { name: 'Save note' }).click();
    // The browser's own check stops an empty title (required) before anything is sent.
    expect(
      await page
        .getByLabel('Title')
        .evaluate((el) => (el as unknown as { validity: { valueMissing: boolean } }).validity.valueMissing),
    ).toBe(true);
    await page.getByLabel('Category').selectOption('progress');
    await page.getByLabel('Title').fill('First week');
    await page
      .getByLabel('Note', { exact: true })
      .fill('Settled in well; asked for captions in the recorded lectures.');
    await page.getByLabel('Tags').fill('week-1, Captions');
    await page.getByRole('button', { name: 'Save note' }).click();
    await page.getByRole('heading', { name: 'First week' }).waitFor();
    await page.getByRole('status').filter({ hasText: 'The note was saved' }).waitFor();
    expect(await page.locator('ul.notes').textContent()).toContain('tags: week-1, captions');
    await expectAccessible(page, 'candidate');

    // A note can be changed afterwards; the form opens in its place with the note's values.
    await page.getByRole('button', { name: 'Edit the note “First week”' }).click();
    const edit = page.getByRole('form', { name: 'Edit the note “First week”' });
    expect(await edit.getByLabel('Tags').inputValue()).toBe('week-1, captions');
    await edit.getByLabel('Title').fill('First week, settled');
    await edit.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('heading', { name: 'First week, settled' }).waitFor();
  });

  it("signs a candidate out everywhere, with a reason; the candidate's token stops working", async () => {
    const login = await fetch(`${base}/api/auth/login/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: CANDIDATE.email, password: CANDIDATE.password }),
    });
    const { access } = (await login.json()) as { access: string };
    const me = () => fetch(`${base}/api/auth/me/`, { headers: { authorization: `Bearer ${access}` } });
    expect((await me()).status).toBe(200);

    await page.getByRole('link', { name: 'Sessions', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Sessions' }).waitFor();
    await page.getByLabel('E-mail contains').fill('thandi');
    await page.getByRole('button', { name: 'Show sessions' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toBe('2 active sessions');
    await expectAccessible(page, 'sessions');
    await page
      .getByRole('button', { name: `Sign out ${CANDIDATE.email}…` })
      .first()
      .click();
    await page.getByRole('heading', { name: `Sign ${CANDIDATE.email} out everywhere` }).waitFor();
    await page.getByRole('button', { name: 'Sign out everywhere' }).click();
    expect(
      await page
        .getByLabel('Reason')
        .evaluate((el) => (el as unknown as { validity: { valueMissing: boolean } }).validity.valueMissing),
    ).toBe(true);
    await page.getByLabel('Reason').fill('Phone reported stolen');
    await page.getByRole('button', { name: 'Sign out everywhere' }).click();
    await expect
      .poll(() => page.getByRole('status').first().textContent())
      .toContain(`${CANDIDATE.email} was signed out of 2 sessions`);
    expect((await me()).status).toBe(401);
  });

  it('reviews a deletion request: a rejection needs a reason, an approval schedules the erasure', async () => {
    const login = await fetch(`${base}/api/auth/login/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: CANDIDATE.email, password: CANDIDATE.password }),
    });
    const { access } = (await login.json()) as { access: string };
    const request = await fetch(`${base}/api/popia/deletion-requests/create/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${access}` },
      body: JSON.stringify({ reason: 'Leaving the programme' }),
    });
    expect(request.status).toBe(201);
    const { id } = (await request.json()) as { id: number };

    await page.getByRole('link', { name: 'Privacy' }).click();
    await page.getByRole('heading', { level: 1, name: 'Privacy' }).waitFor();
    await page.getByRole('heading', { name: new RegExp(`^Request ${String(id)}, made`) }).waitFor();
    await expectAccessible(page, 'privacy');
    await page.getByLabel('Decision').selectOption('reject');
    await page.getByRole('button', { name: `Record the decision on request ${String(id)}` }).click();
    // The API's message for the field is shown with the field, and the field is marked invalid.
    const notes = page.getByRole('textbox', { name: 'Notes' });
    await expect.poll(() => notes.getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByRole('alert').first().textContent()).toBeTruthy();
    await page.getByLabel('Decision').selectOption('approve');
    await page.getByRole('button', { name: `Record the decision on request ${String(id)}` }).click();
    await expect
      .poll(() => page.getByRole('status').first().textContent())
      .toContain(`Deletion request ${String(id)} was approved`);
    const decided = page.getByRole('table', { name: 'Decided requests' });
    await expect.poll(() => decided.textContent()).toContain('Approved');
  });

  it('creates a staff account and deactivates a candidate, who then shows among the inactive', async () => {
    await page.getByRole('link', { name: 'Users' }).click();
    await page.getByRole('heading', { level: 1, name: 'Users' }).waitFor();
    const create = page.getByRole('region', { name: 'Create an account' });
    await create.getByLabel('E-mail address').fill('grace.staff@capaciti.org.za');
    await create.getByLabel('First name').fill('Grace');
    await create.getByLabel('Last name').fill('Staff');
    await create.getByLabel('Role').selectOption('admin');
    await create.getByRole('button', { name: 'Create account' }).click();
    await expect
      .poll(() => page.getByRole('status').first().textContent())
      .toContain('The account grace.staff@capaciti.org.za was created');
    await expect
      .poll(() => page.getByRole('row', { name: /grace\.staff@capaciti\.org\.za/ }).count())
      .toBe(1);
    await expectAccessible(page, 'users');

    await page.getByRole('button', { name: `Deactivate ${CANDIDATE.email}` }).click();
    await expect
      .poll(() => page.getByRole('status').first().textContent())
      .toContain(`${CANDIDATE.email} is deactivated`);
    await page.getByLabel('Status').selectOption('false');
    await page.getByRole('button', { name: 'Show accounts' }).click();
    await page.getByRole('button', { name: `Activate ${CANDIDATE.email}` }).waitFor();
  });

  it('lets a superuser read the audit log, filtered by action, and the failed background jobs', async () => {
    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.getByRole('heading', { level: 1, name: 'Audit log' }).waitFor();
    await page.getByLabel('Action').fill('force_logout');
    await page.getByRole('button', { name: 'Filter' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toBe('1 entry');
    await page.getByRole('button', { name: 'Check the chain now' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: /^Done: Intact: \d+ sealed entries checked/ })
      .waitFor();
    await expectAccessible(page, 'audit-log');

    await page.getByRole('link', { name: 'Policy versions' }).click();
    await page.getByRole('heading', { level: 1, name: 'Privacy policy versions' }).waitFor();
    const form = page.getByRole('region', { name: 'A new version' });
    await form.getByLabel('Version', { exact: true }).fill('9.0');
    await form.getByLabel('Title', { exact: true }).fill('Privacy notice, console edition');
    await form.getByLabel('Effective date').fill(new Date().toISOString().slice(0, 10));
    await form.getByLabel('Text of the policy').fill('What we keep, why, and for how long.');
    await form.getByRole('button', { name: 'Save the version' }).click();
    await expect
      .poll(() => page.getByRole('status').first().textContent())
      .toContain('Version 9.0 was saved');
    await expectAccessible(page, 'policy-versions');
    await page.getByRole('button', { name: 'Make active: version 9.0' }).click();
    await expect.poll(() => page.getByRole('row', { name: /^9\.0 / }).textContent()).toContain('Active');

    await page.getByRole('link', { name: 'Background jobs' }).click();
    await page.getByRole('heading', { level: 1, name: 'Background jobs' }).waitFor();
    await expect.poll(() => page.getByRole('status').textContent()).toBe('No job has failed.');
    await expectAccessible(page, 'jobs');
  });

  it('keeps working after the access token expires (the console refreshes it)', async () => {
    await new Promise((r) => setTimeout(r, (ACCESS_TTL + 2) * 1000));
    await page.getByRole('link', { name: 'Dashboard' }).click();
    await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    await expect.poll(() => page.getByRole('definition').first().textContent()).toBe('1');
    expect(await page.getByRole('alert').count()).toBe(0);
  });

  it('reflows at 200 % zoom: no page needs scrolling sideways at 640 CSS pixels', async () => {
    await page.setViewportSize({ width: 640, height: 900 });
    for (const [link, heading] of [
      ['Candidates', 'Candidates'],
      ['Sessions', 'Sessions'],
      ['Users', 'Users'],
      ['Privacy', 'Privacy'],
      ['Policy versions', 'Privacy policy versions'],
      ['Audit log', 'Audit log'],
      ['Background jobs', 'Background jobs'],
      ['Dashboard', 'Dashboard'],
    ] as const) {
      await page
        .getByRole('navigation', { name: 'Console' })
        .getByRole('link', { name: link, exact: true })
        .click();
      await page.getByRole('heading', { level: 1, name: heading }).waitFor();
      const overflow = await page.evaluate<number>(
        'document.documentElement.scrollWidth - document.documentElement.clientWidth',
      );
      const wide = await page.evaluate<string[]>(
        `[...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1).slice(0, 8).map((e) => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right) + ' ' + (e.textContent || '').slice(0, 40))`,
      );
      expect(overflow, `${heading} at 640 px: ${wide.join(' | ')}`).toBeLessThanOrEqual(0);
    }
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('signs out, and signs in again with the keyboard alone, with a backup code', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toContain('You have signed out');
    // The page's heading has focus; Tab goes to the fields in order, Enter sends the form.
    await page.keyboard.press('Tab');
    expect(
      await page.evaluate<string | null>(
        'document.activeElement && document.activeElement.getAttribute("name")',
      ),
    ).toBe('email');
    // The focused field shows a visible focus ring.
    expect(await page.evaluate<string>('getComputedStyle(document.activeElement).outlineStyle')).not.toBe(
      'none',
    );
    await page.keyboard.type(SUPERUSER.email);
    await page.keyboard.press('Tab');
    await page.keyboard.type(SUPERUSER.password);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Enter your sign-in code' }).waitFor();
    await expectAccessible(page, 'sign-in-code');
    await page.keyboard.press('Tab');
    expect(
      await page.evaluate<string | null>(
        'document.activeElement && document.activeElement.getAttribute("name")',
      ),
    ).toBe('code');
    await page.keyboard.type(backupCodes[0] ?? '');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
  });
});
