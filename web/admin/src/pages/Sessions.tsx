import { useState } from 'react';
import { api, failure, problemOf, type Problem } from '../api/client';
import { fieldText, type Submit } from '../components/forms';
import { Alert, Field, TextArea } from '../components/Field';
import { Layout, type Me } from '../components/Layout';
import { useLoad } from '../components/useLoad';
import { Table } from '../components/Table';

interface Target {
  email: string;
  userId: number;
}

/** Who is signed in where; ends every session of one person, with a reason that goes into the audit log. */
export function Sessions({
  me,
  onSignOut,
  email,
}: {
  me: Me;
  onSignOut: () => void;
  email?: string | undefined;
}) {
  const [filter, setFilter] = useState(email ?? '');
  const [target, setTarget] = useState<Target | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [listProblem, setListProblem] = useState<string | null>(null);
  const list = useLoad(
    () =>
      api.GET('/api/auth/admin/sessions/', {
        params: { query: { user_email: filter || undefined, active_only: 'true' } },
      }),
    [filter],
  );
  const sessions = list.data?.sessions ?? [];

  const search = (e: Submit) => {
    e.preventDefault();
    setFilter(fieldText(new FormData(e.currentTarget), 'user_email').trim());
  };

  const chooseTarget = async (email: string) => {
    setDone(null);
    setListProblem(null);
    const { data } = await api.GET('/api/users/', { params: { query: { search: email } } });
    const user = data?.results.find((u) => u.email === email);
    if (user) setTarget({ email, userId: user.id });
    else setListProblem(`${email} was not found among the accounts: it may have been erased.`);
  };

  return (
    <Layout me={me} current="sessions" title="Sessions" onSignOut={onSignOut}>
      <form role="search" aria-label="Find sessions" onSubmit={search} className="inline-form">
        <Field label="E-mail contains" name="user_email" type="search" defaultValue={filter} />
        <button type="submit">Show sessions</button>
      </form>
      {done ? <Alert tone="success">{done}</Alert> : null}
      {listProblem ? <Alert>{listProblem}</Alert> : null}
      {list.problem ? <Alert>{list.problem.message}</Alert> : null}
      <p role="status" className="count">
        {list.loading
          ? 'Loading sessions…'
          : `${sessions.length} active session${sessions.length === 1 ? '' : 's'}`}
      </p>
      {sessions.length > 0 ? (
        <Table label="Active sessions">
          <caption className="visually-hidden">Active sessions</caption>
          <thead>
            <tr>
              <th scope="col">Person</th>
              <th scope="col">Device</th>
              <th scope="col">Address</th>
              <th scope="col">Last active</th>
              <th scope="col">Unfamiliar</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {sessions.map((s) => (
              <tr key={s.id}>
                <th scope="row">
                  {s.user_email} <span className="meta">({s.user_role})</span>
                </th>
                <td>
                  {s.device_type}, {s.browser || 'unknown browser'} {s.os ? `on ${s.os}` : ''}
                </td>
                <td>{s.ip_address ?? '–'}</td>
                <td>{s.time_since_activity}</td>
                <td>{s.is_suspicious ? 'Yes' : 'No'}</td>
                <td>
                  {s.user_email !== me.email ? (
                    <button type="button" onClick={() => void chooseTarget(s.user_email)}>
                      Sign out {s.user_email}…
                    </button>
                  ) : (
                    'You'
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </Table>
      ) : null}
      {target ? (
        <ForceLogout
          target={target}
          onCancel={() => {
            setTarget(null);
          }}
          onDone={(message) => {
            setTarget(null);
            setDone(message);
            void list.reload();
          }}
        />
      ) : null}
    </Layout>
  );
}

function ForceLogout({
  target,
  onCancel,
  onDone,
}: {
  target: Target;
  onCancel: () => void;
  onDone: (message: string) => void;
}) {
  const [problem, setProblem] = useState<Problem | null>(null);
  const submit = async (e: Submit) => {
    e.preventDefault();
    const reason = fieldText(new FormData(e.currentTarget), 'reason').trim();
    const result = await api.POST('/api/auth/admin/force-logout/', {
      body: { user_id: target.userId, reason },
    });
    if (!result.data) {
      setProblem(problemOf(failure(result)));
      return;
    }
    const answer = result.data;
    onDone(
      `${target.email} was signed out of ${answer.sessions_terminated} session${answer.sessions_terminated === 1 ? '' : 's'}.`,
    );
  };
  return (
    <section aria-labelledby="force-logout" className="panel">
      <h2 id="force-logout">Sign {target.email} out everywhere</h2>
      {problem ? <Alert>{problem.message}</Alert> : null}
      <form onSubmit={(e) => void submit(e)}>
        <TextArea
          label="Reason"
          name="reason"
          required
          maxLength={500}
          hint="Kept in the audit log. Say why, without health details."
          errors={problem?.fields.reason}
          autoFocus
        />
        <button type="submit">Sign out everywhere</button>
        <button type="button" className="link" onClick={onCancel}>
          Cancel
        </button>
      </form>
    </section>
  );
}
