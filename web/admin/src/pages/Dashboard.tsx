import { api } from '../api/client';
import { ActivityChart } from '../components/ActivityChart';
import { Alert } from '../components/Field';
import { Layout, type Me } from '../components/Layout';
import { useLoad } from '../components/useLoad';

const FIGURES = [
  ['total_candidates', 'Candidates'],
  ['active_candidates', 'Candidates with intake done'],
  ['pending_intake', 'Candidates waiting for intake'],
  ['recent_entries', 'Journal entries in the last 7 days'],
  ['recent_barriers', 'Barriers reported in the last 7 days'],
  ['total_admin_notes', 'Staff notes'],
  ['recent_admin_notes', 'Staff notes in the last 7 days'],
] as const;

export function Dashboard({ me, onSignOut }: { me: Me; onSignOut: () => void }) {
  const { data, problem, loading } = useLoad(() => api.GET('/api/dashboard/admin-stats/'), []);
  const stats = data as Record<string, number> | null;
  const activity = useLoad(
    () => api.GET('/api/dashboard/activity/', { params: { query: { days: 30 } } }),
    [],
  );
  return (
    <Layout me={me} current="" title="Dashboard" onSignOut={onSignOut}>
      {problem ? <Alert>{problem.message}</Alert> : null}
      {loading && !stats ? <p role="status">Loading figures…</p> : null}
      {stats ? (
        <section aria-labelledby="figures">
          <h2 id="figures">Programme figures</h2>
          <dl className="figures">
            {FIGURES.map(([key, label]) => (
              <div key={key}>
                <dt>{label}</dt>
                <dd>{stats[key] ?? 0}</dd>
              </div>
            ))}
          </dl>
        </section>
      ) : null}
      <section aria-labelledby="activity">
        <h2 id="activity">Journal activity and barriers, last 30 days</h2>
        {activity.problem ? <Alert>{activity.problem.message}</Alert> : null}
        {activity.data ? <ActivityChart days={activity.data.series} /> : null}
      </section>
    </Layout>
  );
}
