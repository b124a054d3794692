import { api } from '../api/client';
import { useAction } from '../components/useAction';
import { Alert } from '../components/Field';
import { plural, when } from '../components/format';
import { Layout, type Me } from '../components/Layout';
import { useLoad } from '../components/useLoad';
import { Table } from '../components/Table';

/** Background jobs that failed every attempt (e-mails, exports, erasures), with their reason; run one again. */
export function Jobs({ me, onSignOut }: { me: Me; onSignOut: () => void }) {
  const list = useLoad(() => api.GET('/api/admin/jobs/failed/', { params: { query: { limit: 100 } } }), []);
  const { done, problem, act } = useAction(list.reload);
  const jobs = list.data?.results ?? [];

  const retry = (id: string, job: string) =>
    act(`${job} (${id}) will run again.`, () =>
      api.POST('/api/admin/jobs/failed/{id}/retry/', { params: { path: { id } } }),
    );

  return (
    <Layout me={me} current="jobs" title="Background jobs" onSignOut={onSignOut}>
      {done ? <Alert tone="success">{done}</Alert> : null}
      {problem ? <Alert>{problem.message}</Alert> : null}
      {list.problem ? <Alert>{list.problem.message}</Alert> : null}
      <p role="status" className="count">
        {list.loading
          ? 'Loading…'
          : jobs.length === 0
            ? 'No job has failed.'
            : plural(jobs.length, 'failed job')}
      </p>
      {jobs.length > 0 ? (
        <Table label="Failed jobs">
          <caption className="visually-hidden">Failed jobs</caption>
          <thead>
            <tr>
              <th scope="col">Job</th>
              <th scope="col">Failed</th>
              <th scope="col">Attempts</th>
              <th scope="col">Reason</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {jobs.map((j) => (
              <tr key={j.id}>
                <th scope="row">
                  {j.job} <span className="meta">({j.id})</span>
                </th>
                <td>{when(j.failed_at)}</td>
                <td>{j.attempts}</td>
                <td>{j.reason}</td>
                <td>
                  <button
                    type="button"
                    aria-label={`Run again: ${j.job} ${j.id}`}
                    onClick={() => void retry(j.id, j.job)}
                  >
                    Run again
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </Table>
      ) : null}
    </Layout>
  );
}
