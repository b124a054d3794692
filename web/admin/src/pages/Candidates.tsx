import { useState } from 'react';
import { api } from '../api/client';
import { fieldText, type Submit } from '../components/forms';
import { Alert, Field, Select } from '../components/Field';
import { Layout, type Me } from '../components/Layout';
import { useLoad } from '../components/useLoad';
import { href } from '../router';
import { Table } from '../components/Table';

const ACTIVE = [
  ['', 'Active and inactive'],
  ['true', 'Active only'],
  ['false', 'Inactive only'],
] as const;

/** Finds candidates by name or e-mail; each row leads to the candidate's page. */
export function Candidates({ me, onSignOut }: { me: Me; onSignOut: () => void }) {
  const [query, setQuery] = useState({ search: '', active: '', page: 1 });
  const { data, problem, loading } = useLoad(
    () =>
      api.GET('/api/users/', {
        params: {
          query: {
            role: 'candidate',
            search: query.search || undefined,
            is_active: query.active || undefined,
            page: query.page,
            page_size: 20,
          },
        },
      }),
    [query],
  );
  const page = data;

  const submit = (e: Submit) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    setQuery({
      search: fieldText(form, 'search').trim(),
      active: fieldText(form, 'active'),
      page: 1,
    });
  };

  return (
    <Layout me={me} current="candidates" title="Candidates" onSignOut={onSignOut}>
      <form role="search" aria-label="Find candidates" onSubmit={submit} className="inline-form">
        <Field label="Name or e-mail contains" name="search" type="search" defaultValue={query.search} />
        <Select label="Account" name="active" defaultValue={query.active} options={ACTIVE} />
        <button type="submit">Search</button>
      </form>
      {problem ? <Alert>{problem.message}</Alert> : null}
      <p role="status" className="count">
        {loading ? 'Searching…' : page ? `${page.count} candidate${page.count === 1 ? '' : 's'} found` : ''}
      </p>
      {page && page.results.length > 0 ? (
        <Table label="Candidates found">
          <caption className="visually-hidden">Candidates, page {query.page}</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">E-mail</th>
              <th scope="col">Intake</th>
            </tr>
          </thead>
          <tbody>
            {page.results.map((u) => (
              <tr key={u.id}>
                <th scope="row">
                  <a href={href('candidates', u.id)}>{`${u.first_name} ${u.last_name}`.trim() || u.email}</a>
                </th>
                <td>{u.email}</td>
                <td>{u.has_completed_intake ? 'Done' : 'Not yet'}</td>
              </tr>
            ))}
          </tbody>
        </Table>
      ) : null}
      {page && (page.previous || page.next) ? (
        <nav aria-label="Pages of candidates" className="pager">
          <button
            type="button"
            disabled={!page.previous}
            onClick={() => {
              setQuery({ ...query, page: query.page - 1 });
            }}
          >
            Previous page
          </button>
          <button
            type="button"
            disabled={!page.next}
            onClick={() => {
              setQuery({ ...query, page: query.page + 1 });
            }}
          >
            Next page
          </button>
        </nav>
      ) : null}
    </Layout>
  );
}
