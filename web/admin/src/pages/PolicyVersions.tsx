import { api } from '../api/client';
import { useAction } from '../components/useAction';
import { fieldText, type Submit } from '../components/forms';
import { Alert, Field, TextArea } from '../components/Field';
import { Layout, type Me } from '../components/Layout';
import { useLoad } from '../components/useLoad';
import { Table } from '../components/Table';

/**
 * Privacy policy versions (superusers): the versions with the active one marked in words, a new version,
 * and making another version the active one (people are asked to consent to it again).
 */
export function PolicyVersions({ me, onSignOut }: { me: Me; onSignOut: () => void }) {
  const list = useLoad(
    () => api.GET('/api/popia/privacy-policy/versions/', { params: { query: { page_size: 100 } } }),
    [],
  );
  const { done, problem, problemAt, act, errorsAt } = useAction(list.reload);

  const create = async (e: Submit) => {
    e.preventDefault();
    const formElement = e.currentTarget;
    const form = new FormData(formElement);
    const version = fieldText(form, 'version').trim();
    const ok = await act(
      `Version ${version} was saved.`,
      () =>
        api.POST('/api/popia/privacy-policy/versions/', {
          body: {
            version,
            title: fieldText(form, 'title'),
            content: fieldText(form, 'content'),
            effective_date: fieldText(form, 'effective_date'),
            is_active: form.get('is_active') === 'on',
          },
        }),
      'new-version',
    );
    if (ok) formElement.reset();
  };

  return (
    <Layout me={me} current="policy" title="Privacy policy versions" onSignOut={onSignOut}>
      {done ? <Alert tone="success">{done}</Alert> : null}
      {problem && problemAt !== 'new-version' ? <Alert>{problem.message}</Alert> : null}
      {list.problem ? <Alert>{list.problem.message}</Alert> : null}
      {list.data && list.data.results.length > 0 ? (
        <Table label="Versions">
          <caption className="visually-hidden">Privacy policy versions, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Version</th>
              <th scope="col">Title</th>
              <th scope="col">Effective</th>
              <th scope="col">State</th>
            </tr>
          </thead>
          <tbody>
            {list.data.results.map((v) => (
              <tr key={v.id}>
                <th scope="row">{v.version}</th>
                <td>{v.title}</td>
                <td>{v.effective_date}</td>
                <td>
                  {v.is_active ? (
                    <strong>Active</strong>
                  ) : (
                    <button
                      type="button"
                      aria-label={`Make active: version ${v.version}`}
                      onClick={() =>
                        void act(`Version ${v.version} is now the active one.`, () =>
                          api.POST('/api/popia/privacy-policy/versions/{id}/activate/', {
                            params: { path: { id: v.id } },
                          }),
                        )
                      }
                    >
                      Make active
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </Table>
      ) : null}
      <section aria-labelledby="new-version" className="panel">
        <h2 id="new-version">A new version</h2>
        {problem && problemAt === 'new-version' ? <Alert>{problem.message}</Alert> : null}
        <form onSubmit={(e) => void create(e)}>
          <Field
            label="Version"
            name="version"
            required
            maxLength={20}
            hint="For example 3.0."
            errors={errorsAt('new-version', 'version')}
          />
          <Field
            label="Title"
            name="title"
            required
            maxLength={200}
            errors={errorsAt('new-version', 'title')}
          />
          <Field
            label="Effective date"
            name="effective_date"
            type="date"
            required
            errors={errorsAt('new-version', 'effective_date')}
          />
          <TextArea
            label="Text of the policy"
            name="content"
            required
            rows={10}
            errors={errorsAt('new-version', 'content')}
          />
          <div className="check">
            <input id="policy-active" type="checkbox" name="is_active" />
            <label htmlFor="policy-active">Make it the active version now</label>
          </div>
          <button type="submit">Save the version</button>
        </form>
      </section>
    </Layout>
  );
}
