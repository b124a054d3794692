import { useEffect, useRef, useState } from 'react';
import { api, failure, problemOf, setTokens, type Problem } from '../api/client';
import { fieldText, type Submit } from '../components/forms';
import { Alert, Field } from '../components/Field';

type Step =
  | { kind: 'password' }
  | { kind: 'code'; email: string }
  | { kind: 'enrol'; setupToken: string; qr: string; secret: string }
  | { kind: 'backup-codes'; codes: string[]; role: string; tokens: { access: string; refresh: string } };

const STAFF = ['admin', 'superuser'];

/**
 * The two-step staff sign-in: password, then a code from the authenticator app or a backup code. A new
 * admin or superuser enrols 2FA here at the first sign-in (QR code, code, then their backup codes).
 */
export function SignIn({ onSignedIn, notice }: { onSignedIn: () => void; notice?: string | undefined }) {
  const [step, setStep] = useState<Step>({ kind: 'password' });
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), [step.kind]);

  async function run(action: () => Promise<void>) {
    setBusy(true);
    setProblem(null);
    try {
      await action();
    } catch {
      setProblem({ message: 'The service could not be reached. Try again in a moment.', fields: {} });
    } finally {
      setBusy(false);
    }
  }

  function finish(tokens: { access: string; refresh: string }, role: string) {
    if (!STAFF.includes(role)) {
      // The sign-in opened a session: end it, so nothing of it stays live.
      void api
        .POST('/api/auth/logout/', {
          headers: { authorization: `Bearer ${tokens.access}` },
          body: { refresh: tokens.refresh },
        })
        .catch(() => undefined);
      setProblem({ message: 'This console is for programme staff. Candidates use the PSS app.', fields: {} });
      return;
    }
    setTokens(tokens);
    onSignedIn();
  }

  const submitPassword = (e: Submit) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const email = fieldText(form, 'email');
    const password = fieldText(form, 'password');
    void run(async () => {
      const login = await api.POST('/api/auth/login/', { body: { email, password } });
      const error = failure(login);
      if (error) {
        const body = error as { code?: string; setup_token?: string };
        if (body.code === '2fa_setup_required' && body.setup_token) {
          const setupToken = body.setup_token;
          const setup = await api.POST('/api/auth/2fa/setup/', {
            headers: { authorization: `Bearer ${setupToken}` },
          });
          if (!setup.data) {
            setProblem(problemOf(failure(setup)));
            return;
          }
          const { qr_code_base64: qr, secret } = setup.data;
          setStep({ kind: 'enrol', setupToken, qr, secret });
          return;
        }
        setProblem(problemOf(error));
        return;
      }
      // 200 is either a sign-in or the request for the second step.
      const answer = login.data;
      if (!answer) return;
      if ('requires_2fa' in answer) {
        setStep({ kind: 'code', email: answer.email });
        return;
      }
      finish(answer, answer.user.role);
    });
  };

  const submitCode = (email: string) => (e: Submit) => {
    e.preventDefault();
    const code = fieldText(new FormData(e.currentTarget), 'code').trim();
    void run(async () => {
      const result = await api.POST('/api/auth/2fa/verify-code/', { body: { email, code } });
      if (!result.data) {
        const error = failure(result);
        if ((error as { code?: string }).code === '2fa_session_expired') setStep({ kind: 'password' });
        setProblem(problemOf(error));
        return;
      }
      finish(result.data, result.data.user.role);
    });
  };

  const submitEnrolment = (setupToken: string) => (e: Submit) => {
    e.preventDefault();
    const code = fieldText(new FormData(e.currentTarget), 'totp_code').trim();
    void run(async () => {
      const result = await api.POST('/api/auth/2fa/verify-setup/', {
        headers: { authorization: `Bearer ${setupToken}` },
        body: { totp_code: code },
      });
      if (!result.data) {
        setProblem(problemOf(failure(result)));
        return;
      }
      const answer = result.data as {
        backup_codes: string[];
        access?: string;
        refresh?: string;
        user?: { role: string };
      };
      if (!answer.access || !answer.refresh || !answer.user) {
        setProblem({ message: '2FA is on. Sign in again to go on.', fields: {} });
        return;
      }
      setStep({
        kind: 'backup-codes',
        codes: answer.backup_codes,
        role: answer.user.role,
        tokens: { access: answer.access, refresh: answer.refresh },
      });
    });
  };

  return (
    <main id="main" className="sign-in">
      <h1 ref={heading} tabIndex={-1}>
        {step.kind === 'password' && 'Sign in to the PSS staff console'}
        {step.kind === 'code' && 'Enter your sign-in code'}
        {step.kind === 'enrol' && 'Set up two-step sign-in'}
        {step.kind === 'backup-codes' && 'Save your backup codes'}
      </h1>
      {notice && step.kind === 'password' ? <Alert tone="success">{notice}</Alert> : null}
      {problem ? <Alert>{problem.message}</Alert> : null}

      {step.kind === 'password' && (
        <form onSubmit={submitPassword} aria-describedby={undefined}>
          <Field
            label="E-mail address"
            name="email"
            type="email"
            autoComplete="username"
            required
            errors={problem?.fields.email}
          />
          <Field
            label="Password"
            name="password"
            type="password"
            autoComplete="current-password"
            required
            errors={problem?.fields.password}
          />
          <button type="submit" disabled={busy}>
            {busy ? 'Signing in…' : 'Continue'}
          </button>
        </form>
      )}

      {step.kind === 'code' && (
        <form onSubmit={submitCode(step.email)}>
          <Field
            label="Code"
            name="code"
            autoComplete="one-time-code"
            inputMode="text"
            required
            hint="The 6-digit code from your authenticator app, or one of your backup codes (XXXX-XXXX-XXXX)."
            errors={problem?.fields.code}
          />
          <button type="submit" disabled={busy}>
            {busy ? 'Checking…' : 'Sign in'}
          </button>
          <button
            type="button"
            className="link"
            onClick={() => {
              setStep({ kind: 'password' });
            }}
          >
            Start again
          </button>
        </form>
      )}

      {step.kind === 'enrol' && (
        <form onSubmit={submitEnrolment(step.setupToken)}>
          <p>
            Staff accounts need a second step at sign-in. Scan this code with an authenticator app (for
            example Google Authenticator, Microsoft Authenticator or Authy), then enter the 6-digit code it
            shows.
          </p>
          <img
            className="qr"
            src={`data:image/png;base64,${step.qr}`}
            alt="QR code to add this account to an authenticator app"
            width={200}
            height={200}
          />
          <p>
            Cannot scan? Enter this key in the app instead: <code className="secret">{step.secret}</code>
          </p>
          <Field
            label="6-digit code from the app"
            name="totp_code"
            autoComplete="one-time-code"
            inputMode="numeric"
            pattern="[0-9]{6}"
            required
            errors={problem?.fields.totp_code}
          />
          <button type="submit" disabled={busy}>
            {busy ? 'Checking…' : 'Turn on two-step sign-in'}
          </button>
        </form>
      )}

      {step.kind === 'backup-codes' && (
        <div>
          <p>
            Each backup code signs you in once if you lose your phone. Keep them somewhere safe: they will not
            be shown again.
          </p>
          <ul className="codes" aria-label="Backup codes">
            {step.codes.map((code) => (
              <li key={code}>
                <code>{code}</code>
              </li>
            ))}
          </ul>
          <button
            type="button"
            onClick={() => {
              finish(step.tokens, step.role);
            }}
          >
            I have saved my backup codes
          </button>
        </div>
      )}
    </main>
  );
}
