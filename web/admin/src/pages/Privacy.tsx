import { api } from '../api/client';
import { allPages } from '../api/pages';
import { fieldText, type Submit } from '../components/forms';
import { Alert, Select, TextArea } from '../components/Field';
import { when } from '../components/format';
import { Layout, type Me } from '../components/Layout';
import { useAction } from '../components/useAction';
import { useLoad } from '../components/useLoad';
import { Table } from '../components/Table';

const DECISIONS = [
  ['approve', 'Approve: erase after the grace period'],
  ['reject', 'Reject (give the reason)'],
] as const;

/**
 * POPIA work: deletion requests to review (approve, or reject with a reason the person is sent), and the
 * accounts due for erasure after inactivity, which can be exempted with a reason.
 */
export function Privacy({ me, onSignOut }: { me: Me; onSignOut: () => void }) {
  // Every page: a pending request beyond the first hundred must still be seen.
  const requests = useLoad(
    () =>
      allPages((page) =>
        api.GET('/api/popia/deletion-requests/', { params: { query: { page, page_size: 100 } } }),
      ),
    [],
  );
  const schedules = useLoad(
    () =>
      allPages((page) =>
        api.GET('/api/popia/retention/schedules/', { params: { query: { page, page_size: 100 } } }),
      ),
    [],
  );
  const reloadAll = () => Promise.all([requests.reload(), schedules.reload()]);
  const { done, problem, act, errorsAt } = useAction(reloadAll);
  const pending = (requests.data?.results ?? []).filter((r) => r.status === 'pending');
  const decided = (requests.data?.results ?? []).filter((r) => r.status !== 'pending');

  const review = (id: number) => (e: Submit) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const action = fieldText(form, 'action');
    void act(
      `Deletion request ${String(id)} was ${action === 'approve' ? 'approved' : 'rejected'}.`,
      () =>
        api.POST('/api/popia/deletion-requests/{id}/review/', {
          params: { path: { id } },
          body: { action, notes: fieldText(form, 'notes') },
        }),
      `request-${String(id)}`,
    );
  };

  const exempt = (id: number, email: string) => (e: Submit) => {
    e.preventDefault();
    const reason = fieldText(new FormData(e.currentTarget), 'reason').trim();
    void act(
      `${email} will not be erased for inactivity.`,
      () =>
        api.POST('/api/popia/retention/schedules/{id}/exempt/', {
          params: { path: { id } },
          body: { reason },
        }),
      `schedule-${String(id)}`,
    );
  };

  return (
    <Layout me={me} current="privacy" title="Privacy" onSignOut={onSignOut}>
      {done ? <Alert tone="success">{done}</Alert> : null}
      {problem ? <Alert>{problem.message}</Alert> : null}
      <section aria-labelledby="deletion">
        <h2 id="deletion">Deletion requests to review</h2>
        {requests.problem ? <Alert>{requests.problem.message}</Alert> : null}
        {pending.length === 0 && !requests.loading ? <p>No request is waiting for review.</p> : null}
        {pending.map((r) => (
          <article key={r.id} className="panel" aria-labelledby={`request-${String(r.id)}`}>
            <h3 id={`request-${String(r.id)}`}>
              Request {r.id}, made {when(r.requested_at)}
            </h3>
            <p>Reason given: {r.reason || <span className="empty">none</span>}</p>
            <form onSubmit={review(r.id)}>
              <Select label="Decision" name="action" defaultValue="approve" options={DECISIONS} />
              <TextArea
                label="Notes"
                name="notes"
                rows={3}
                maxLength={2000}
                hint="Required when rejecting: the person receives this reason by e-mail."
                errors={errorsAt(`request-${String(r.id)}`, 'notes')}
              />
              <button type="submit">Record the decision on request {r.id}</button>
            </form>
          </article>
        ))}
        {decided.length > 0 ? (
          <Table label="Decided requests">
            <caption>Decided requests</caption>
            <thead>
              <tr>
                <th scope="col">Request</th>
                <th scope="col">Status</th>
                <th scope="col">Reviewed</th>
                <th scope="col">Erasure</th>
              </tr>
            </thead>
            <tbody>
              {decided.map((r) => (
                <tr key={r.id}>
                  <th scope="row">{r.id}</th>
                  <td>{r.status_display}</td>
                  <td>
                    {when(r.reviewed_at)} {r.reviewed_by_email ? `by ${r.reviewed_by_email}` : ''}
                  </td>
                  <td>
                    {r.completed_at
                      ? `done ${when(r.completed_at)}`
                      : r.scheduled_for
                        ? `due ${when(r.scheduled_for)}`
                        : '–'}
                  </td>
                </tr>
              ))}
            </tbody>
          </Table>
        ) : null}
      </section>
      <section aria-labelledby="retention">
        <h2 id="retention">Accounts due for erasure after inactivity</h2>
        {schedules.problem ? <Alert>{schedules.problem.message}</Alert> : null}
        {(schedules.data?.results.length ?? 0) === 0 && !schedules.loading ? (
          <p>No account is scheduled.</p>
        ) : null}
        {schedules.data?.results.map((s) => (
          <article key={s.id} className="panel" aria-labelledby={`schedule-${String(s.id)}`}>
            <h3 id={`schedule-${String(s.id)}`}>{s.user_email}</h3>
            <p>
              Erasure due {when(s.scheduled_deletion_date)}
              {s.days_until_deletion !== null ? ` (in ${String(s.days_until_deletion)} days)` : ''}.{' '}
              {s.exempted ? `Exempted: ${s.exemption_reason}` : 'Not exempted.'}
            </p>
            {s.exempted ? null : (
              <form onSubmit={exempt(s.id, s.user_email)}>
                <TextArea
                  label={`Reason to keep ${s.user_email}`}
                  name="reason"
                  errors={errorsAt(`schedule-${String(s.id)}`, 'reason')}
                  rows={2}
                  required
                  maxLength={500}
                />
                <button type="submit">Exempt {s.user_email}</button>
              </form>
            )}
          </article>
        ))}
      </section>
    </Layout>
  );
}
