import { useState } from 'react';
import { api, failure, problemOf, type Problem } from '../api/client';
import { fieldText, type Submit } from '../components/forms';
import { Alert, Field, Select, TextArea } from '../components/Field';
import { Layout, type Me } from '../components/Layout';
import { useLoad } from '../components/useLoad';
import { href } from '../router';

const PROFILE_FIELDS = [
  ['contact_number', 'Contact number'],
  ['address', 'Address'],
  ['id_number', 'ID number'],
  ['emergency_contact', 'Emergency contact'],
  ['emergency_phone', 'Emergency phone'],
  ['diagnosis', 'Diagnosis'],
  ['medications', 'Medications'],
  ['allergies', 'Allergies'],
  ['medical_notes', 'Medical notes'],
  ['doctor_name', 'Doctor'],
  ['doctor_phone', 'Doctor phone'],
  ['accommodations', 'Accommodations'],
  ['assistive_technology', 'Assistive technology'],
  ['learning_style', 'Learning style'],
  ['support_needs', 'Support needs'],
  ['communication_preferences', 'Communication preferences'],
] as const;

export const CATEGORIES = [
  ['general', 'General'],
  ['progress', 'Progress'],
  ['achievement', 'Achievement'],
  ['concern', 'Concern'],
  ['accommodation', 'Accommodation'],
  ['medical', 'Medical'],
] as const;

const when = (iso: string) =>
  new Date(iso).toLocaleString('en-ZA', {
    dateStyle: 'medium',
    timeStyle: 'short',
    timeZone: 'Africa/Johannesburg',
  });

/** One candidate: the profile and intake (each view is audited by the API), the staff notes, a new note. */
export function Candidate({ me, onSignOut, id }: { me: Me; onSignOut: () => void; id: number }) {
  const person = useLoad(() => api.GET('/api/users/{id}/', { params: { path: { id } } }), [id]);
  const notes = useLoad(
    () =>
      api.GET('/api/admin-notes/candidate/{candidate_id}/', {
        params: { path: { candidate_id: id }, query: { page_size: 100 } },
      }),
    [id],
  );
  const candidate = person.data;
  const noteList = notes.data?.results ?? [];
  const name = candidate
    ? `${candidate.first_name} ${candidate.last_name}`.trim() || candidate.email
    : 'Candidate';

  return (
    <Layout me={me} current="candidates" title={name} onSignOut={onSignOut}>
      <p>
        <a href={href('candidates')}>Back to candidates</a>
      </p>
      {person.problem ? <Alert>{person.problem.message}</Alert> : null}
      {candidate ? (
        <>
          <section aria-labelledby="profile">
            <h2 id="profile">Profile</h2>
            <p>
              {candidate.email} · intake {candidate.has_completed_intake ? 'done' : 'not yet done'}
            </p>
            {candidate.profile ? (
              <dl className="profile">
                {PROFILE_FIELDS.map(([key, label]) => (
                  <div key={key}>
                    <dt>{label}</dt>
                    <dd>{candidate.profile?.[key] || <span className="empty">not given</span>}</dd>
                  </div>
                ))}
              </dl>
            ) : (
              <p>This person's profile has been erased.</p>
            )}
          </section>
          <section aria-labelledby="notes">
            <h2 id="notes">Staff notes</h2>
            {notes.problem ? <Alert>{notes.problem.message}</Alert> : null}
            {noteList.length === 0 && !notes.loading ? <p>No notes yet.</p> : null}
            <ul className="notes">
              {noteList.map((note) => (
                <li key={note.id}>
                  <article aria-labelledby={`note-${note.id}`}>
                    <h3 id={`note-${note.id}`}>
                      {note.title}
                      {note.is_important ? <span className="tag important"> (important)</span> : null}
                    </h3>
                    <p className="meta">
                      {CATEGORIES.find(([c]) => c === note.category)?.[1] ?? note.category} ·{' '}
                      {when(note.created_at)}
                      {note.tags.length ? ` · tags: ${note.tags.join(', ')}` : ''}
                    </p>
                    <p>{note.content}</p>
                  </article>
                </li>
              ))}
            </ul>
            <NoteForm candidateId={id} onSaved={() => void notes.reload()} />
          </section>
        </>
      ) : null}
    </Layout>
  );
}

function NoteForm({ candidateId, onSaved }: { candidateId: number; onSaved: () => void }) {
  const [problem, setProblem] = useState<Problem | null>(null);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Submit) => {
    e.preventDefault();
    const formElement = e.currentTarget;
    const form = new FormData(formElement);
    setBusy(true);
    setSaved(false);
    const tags = fieldText(form, 'tags')
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean);
    const result = await api.POST('/api/admin-notes/', {
      body: {
        candidate: candidateId,
        category: fieldText(form, 'category'),
        title: fieldText(form, 'title'),
        content: fieldText(form, 'content'),
        is_important: form.get('is_important') === 'on',
        tags,
      },
    });
    setBusy(false);
    if (!result.response.ok) {
      setProblem(problemOf(failure(result)));
      return;
    }
    setProblem(null);
    setSaved(true);
    formElement.reset();
    onSaved();
  };

  return (
    <form onSubmit={(e) => void submit(e)} aria-labelledby="new-note">
      <h3 id="new-note">Write a note</h3>
      {problem ? <Alert>{problem.message}</Alert> : null}
      {saved ? <Alert tone="success">The note was saved.</Alert> : null}
      <Select
        label="Category"
        name="category"
        defaultValue="general"
        options={CATEGORIES}
        errors={problem?.fields.category}
      />
      <Field label="Title" name="title" required maxLength={200} errors={problem?.fields.title} />
      <TextArea label="Note" name="content" required maxLength={10000} errors={problem?.fields.content} />
      <Field
        label="Tags"
        name="tags"
        hint="Optional, separated by commas. Tags are not encrypted: never put health details in them."
        errors={problem?.fields.tags}
      />
      <div className="check">
        <input id="is-important" type="checkbox" name="is_important" />
        <label htmlFor="is-important">Mark as important</label>
      </div>
      <button type="submit" disabled={busy}>
        {busy ? 'Saving…' : 'Save note'}
      </button>
    </form>
  );
}
