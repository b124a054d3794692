import { useId, useState } from 'react';
import { api, failure, problemOf, type Problem } from '../api/client';
import { fieldText, type Submit } from '../components/forms';
import { Alert, Field, Select, TextArea } from '../components/Field';
import { when } from '../components/format';
import { Layout, type Me } from '../components/Layout';
import { useLoad } from '../components/useLoad';
import { IntakeSubmissions } from './IntakeSubmissions';
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
  const [editing, setEditing] = useState<number | null>(null);
  const noteList = notes.data?.results ?? [];
  const name = candidate
    ? `${candidate.first_name} ${candidate.last_name}`.trim() || candidate.email
    : 'Candidate';

  return (
    <Layout me={me} current="candidates" title={name} onSignOut={onSignOut}>
      <p>
        <a href={href('candidates')}>Back to candidates</a>
        {candidate ? (
          <>
            {' · '}
            <a href={href('sessions', candidate.email)}>Sessions of {candidate.email}</a>
          </>
        ) : null}
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
          <IntakeSubmissions userId={id} />
          <section aria-labelledby="notes">
            <h2 id="notes">Staff notes</h2>
            {notes.problem ? <Alert>{notes.problem.message}</Alert> : null}
            {noteList.length === 0 && !notes.loading ? <p>No notes yet.</p> : null}
            <ul className="notes">
              {noteList.map((note) => (
                <li key={note.id}>
                  {editing === note.id ? (
                    <NoteForm
                      candidateId={id}
                      note={note}
                      onCancel={() => {
                        setEditing(null);
                      }}
                      onSaved={() => {
                        setEditing(null);
                        void notes.reload();
                      }}
                    />
                  ) : (
                    <article aria-labelledby={`note-${String(note.id)}`}>
                      <h3 id={`note-${String(note.id)}`}>
                        {note.title}
                        {note.is_important ? <span className="tag important"> (important)</span> : null}
                      </h3>
                      <p className="meta">
                        {CATEGORIES.find(([c]) => c === note.category)?.[1] ?? note.category} ·{' '}
                        {when(note.created_at)}
                        {note.tags.length ? ` · tags: ${note.tags.join(', ')}` : ''}
                      </p>
                      <p>{note.content}</p>
                      <button
                        type="button"
                        className="link"
                        aria-label={`Edit the note “${note.title}”`}
                        onClick={() => {
                          setEditing(note.id);
                        }}
                      >
                        Edit
                      </button>
                    </article>
                  )}
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

interface NoteValues {
  id: number;
  category: string;
  title: string;
  content: string;
  is_important: boolean;
  tags: string[];
}

/** A new note about the candidate, or (with `note`) a change to one. */
function NoteForm({
  candidateId,
  note,
  onSaved,
  onCancel,
}: {
  candidateId: number;
  note?: NoteValues;
  onSaved: () => void;
  onCancel?: () => void;
}) {
  const [problem, setProblem] = useState<Problem | null>(null);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);
  const ids = useId();

  const submit = async (e: Submit) => {
    e.preventDefault();
    const formElement = e.currentTarget;
    const form = new FormData(formElement);
    setBusy(true);
    setSaved(false);
    const body = {
      candidate: candidateId,
      category: fieldText(form, 'category'),
      title: fieldText(form, 'title'),
      content: fieldText(form, 'content'),
      is_important: form.get('is_important') === 'on',
      tags: fieldText(form, 'tags')
        .split(',')
        .map((t) => t.trim())
        .filter(Boolean),
    };
    const result = note
      ? await api.PATCH('/api/admin-notes/{id}/', { params: { path: { id: note.id } }, body })
      : await api.POST('/api/admin-notes/', { body });
    setBusy(false);
    if (!result.response.ok) {
      setProblem(problemOf(failure(result)));
      return;
    }
    setProblem(null);
    setSaved(true);
    if (!note) formElement.reset();
    onSaved();
  };

  return (
    <form onSubmit={(e) => void submit(e)} aria-labelledby={`${ids}-heading`}>
      <h3 id={`${ids}-heading`}>{note ? `Edit the note “${note.title}”` : 'Write a note'}</h3>
      {problem ? <Alert>{problem.message}</Alert> : null}
      {saved ? <Alert tone="success">The note was saved.</Alert> : null}
      <Select
        label="Category"
        name="category"
        defaultValue={note?.category ?? 'general'}
        options={CATEGORIES}
        errors={problem?.fields.category}
      />
      <Field
        label="Title"
        name="title"
        required
        maxLength={200}
        defaultValue={note?.title}
        errors={problem?.fields.title}
      />
      <TextArea
        label="Note"
        name="content"
        required
        maxLength={10000}
        defaultValue={note?.content}
        errors={problem?.fields.content}
      />
      <Field
        label="Tags"
        name="tags"
        defaultValue={note?.tags.join(', ')}
        hint="Optional, separated by commas. Tags are not encrypted: never put health details in them."
        errors={problem?.fields.tags}
      />
      <div className="check">
        <input
          id={`${ids}-important`}
          type="checkbox"
          name="is_important"
          defaultChecked={note?.is_important}
        />
        <label htmlFor={`${ids}-important`}>Mark as important</label>
      </div>
      <button type="submit" disabled={busy}>
        {busy ? 'Saving…' : note ? 'Save changes' : 'Save note'}
      </button>
      {onCancel ? (
        <button type="button" className="link" onClick={onCancel}>
          Cancel
        </button>
      ) : null}
    </form>
  );
}
