import { useState } from 'react';
import { api, failure, problemOf, type Problem } from '../api/client';
import { fieldText, type Submit } from '../components/forms';
import { Alert, Select, TextArea } from '../components/Field';
import { when } from '../components/format';
import { useLoad } from '../components/useLoad';

const STATUSES = [
  ['reviewed', 'Reviewed'],
  ['needs_follow_up', 'Needs follow-up'],
] as const;
const STATUS_TEXT: Record<string, string> = {
  submitted: 'Waiting for review',
  reviewed: 'Reviewed',
  needs_follow_up: 'Needs follow-up',
};

/** A candidate's intake submissions (each read is audited by the API), and their review. */
export function IntakeSubmissions({ userId }: { userId: number }) {
  const list = useLoad(
    () => api.GET('/api/intake/submissions/', { params: { query: { user: String(userId), page_size: 20 } } }),
    [userId],
  );
  const [problem, setProblem] = useState<Problem | null>(null);
  const [problemAt, setProblemAt] = useState<number | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const submissions = list.data?.results ?? [];

  const review = (id: number) => async (e: Submit) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    setDone(null);
    const result = await api.PATCH('/api/intake/submissions/{id}/', {
      params: { path: { id } },
      body: { status: fieldText(form, 'status'), review_notes: fieldText(form, 'review_notes') },
    });
    if (!result.response.ok) {
      setProblem(problemOf(failure(result)));
      setProblemAt(id);
      return;
    }
    setProblem(null);
    setDone(`The review of the submission of ${when(result.data?.submitted_at)} was saved.`);
    await list.reload();
  };

  return (
    <section aria-labelledby="intake">
      <h2 id="intake">Intake submissions</h2>
      {list.problem ? <Alert>{list.problem.message}</Alert> : null}
      {problem ? <Alert>{problem.message}</Alert> : null}
      {done ? <Alert tone="success">{done}</Alert> : null}
      {submissions.length === 0 && !list.loading ? <p>No intake form submitted yet.</p> : null}
      {submissions.map((s) => (
        <article key={s.id} className="panel" aria-labelledby={`submission-${String(s.id)}`}>
          <h3 id={`submission-${String(s.id)}`}>Submitted {when(s.submitted_at)}</h3>
          <p>
            {STATUS_TEXT[s.status] ?? s.status}
            {s.reviewed_at ? `, ${when(s.reviewed_at)}` : ''}
            {s.review_notes ? ` · notes: ${s.review_notes}` : ''}
          </p>
          <form onSubmit={(e) => void review(s.id)(e)}>
            <Select
              label="Review"
              name="status"
              defaultValue={s.status === 'needs_follow_up' ? 'needs_follow_up' : 'reviewed'}
              options={STATUSES}
            />
            <TextArea
              label="Review notes"
              name="review_notes"
              rows={2}
              maxLength={2000}
              defaultValue={s.review_notes ?? ''}
              errors={problemAt === s.id ? problem?.fields.review_notes : undefined}
            />
            <button type="submit">Save the review</button>
          </form>
        </article>
      ))}
    </section>
  );
}
