import { useState } from 'react';
import { api, failure, problemOf, type Problem } from '../api/client';
import { fieldText, type Submit } from '../components/forms';
import { Alert, Field } from '../components/Field';
import { when } from '../components/format';
import { Layout, type Me } from '../components/Layout';
import { useLoad } from '../components/useLoad';
import { Table } from '../components/Table';

interface Filters {
  actor: string;
  subject: string;
  action: string;
  date_from: string;
  date_to: string;
  page: number;
}

const EMPTY: Filters = { actor: '', subject: '', action: '', date_from: '', date_to: '', page: 1 };

/**
 * The audit log (superusers): who did what to whose data, when, from where. Each entry says whether it is
 * sealed into the keyed chain yet (`npm run cli -- audit:verify` checks the whole chain).
 */
export function Audit({ me, onSignOut }: { me: Me; onSignOut: () => void }) {
  const [filters, setFilters] = useState<Filters>(EMPTY);
  const list = useLoad(() => {
    const query: Record<string, string | number> = { page: filters.page, page_size: 50 };
    for (const key of ['actor', 'subject', 'action', 'date_from', 'date_to'] as const) {
      if (filters[key]) query[key] = filters[key];
    }
    return api.GET('/api/popia/audit-log/', { params: { query } });
  }, [filters]);
  const page = list.data;
  const [chain, setChain] = useState<string | null>(null);
  const [chainProblem, setChainProblem] = useState<Problem | null>(null);
  const [checking, setChecking] = useState(false);

  const verify = async () => {
    setChecking(true);
    setChain(null);
    let result;
    try {
      result = await api.POST('/api/popia/audit-log/verify/');
    } catch {
      setChainProblem(problemOf(null));
      return;
    } finally {
      setChecking(false);
    }
    if (!result.data) {
      setChainProblem(problemOf(failure(result)));
      return;
    }
    setChainProblem(null);
    const v = result.data;
    const unsealed = `${String(v.unsealed.count)} entries not sealed yet`;
    setChain(
      v.ok
        ? `Intact: ${String(v.checked)} sealed entries checked, ${unsealed}.`
        : `BROKEN at entry #${String(v.first_broken?.seq ?? '?')}: ${v.first_broken?.problem ?? 'unknown'}. ${unsealed}.`,
    );
  };

  const submit = (e: Submit) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    setFilters({
      actor: fieldText(form, 'actor').trim(),
      subject: fieldText(form, 'subject').trim(),
      action: fieldText(form, 'action').trim(),
      date_from: fieldText(form, 'date_from'),
      date_to: fieldText(form, 'date_to'),
      page: 1,
    });
  };

  return (
    <Layout me={me} current="audit" title="Audit log" onSignOut={onSignOut}>
      <section aria-labelledby="chain" className="panel">
        <h2 id="chain">The chain</h2>
        <p>
          Every entry is sealed into a keyed hash chain within seconds. Checking it walks the whole chain and
          its checkpoints, so a changed, removed or inserted entry is found.
        </p>
        <button type="button" onClick={() => void verify()} disabled={checking}>
          {checking ? 'Checking…' : 'Check the chain now'}
        </button>
        {chainProblem ? <Alert>{chainProblem.message}</Alert> : null}
        {chain ? (
          chain.startsWith('Intact') ? (
            <Alert tone="success">{chain}</Alert>
          ) : (
            <Alert>{chain}</Alert>
          )
        ) : null}
      </section>
      <form role="search" aria-label="Filter the audit log" onSubmit={submit} className="inline-form">
        <Field
          label="Actor (user id)"
          name="actor"
          inputMode="numeric"
          pattern="[0-9]*"
          defaultValue={filters.actor}
        />
        <Field
          label="Subject (user id)"
          name="subject"
          inputMode="numeric"
          pattern="[0-9]*"
          defaultValue={filters.subject}
        />
        <Field
          label="Action"
          name="action"
          hint="For example login_success, read, force_logout."
          defaultValue={filters.action}
        />
        <Field label="From" name="date_from" type="date" defaultValue={filters.date_from} />
        <Field label="To" name="date_to" type="date" defaultValue={filters.date_to} />
        <button type="submit">Filter</button>
      </form>
      {list.problem ? <Alert>{list.problem.message}</Alert> : null}
      <p role="status" className="count">
        {list.loading
          ? 'Loading entries…'
          : page
            ? `${String(page.count)} ${page.count === 1 ? 'entry' : 'entries'}`
            : ''}
      </p>
      {page && page.results.length > 0 ? (
        <Table label="Audit entries">
          <caption className="visually-hidden">Audit entries, page {filters.page}</caption>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Action</th>
              <th scope="col">Outcome</th>
              <th scope="col">Actor</th>
              <th scope="col">Subject</th>
              <th scope="col">Resource</th>
              <th scope="col">Chain</th>
            </tr>
          </thead>
          <tbody>
            {page.results.map((e) => (
              <tr key={e.id}>
                <td>{when(e.at)}</td>
                <th scope="row">{e.action}</th>
                <td>{e.outcome}</td>
                <td>
                  {e.actor_id === null
                    ? (e.actor_role ?? 'system')
                    : `${String(e.actor_id)} (${e.actor_role ?? ''})`}
                </td>
                <td>{e.subject_user_id ?? '–'}</td>
                <td>
                  {e.resource_type}
                  {e.resource_id ? ` ${e.resource_id}` : ''}
                  {e.fields?.length ? <span className="meta"> · fields: {e.fields.join(', ')}</span> : null}
                </td>
                <td>{e.seq === null ? 'not sealed yet' : `sealed, #${String(e.seq)}`}</td>
              </tr>
            ))}
          </tbody>
        </Table>
      ) : null}
      {page && (page.previous || page.next) ? (
        <nav aria-label="Pages of the audit log" className="pager">
          <button
            type="button"
            disabled={!page.previous}
            onClick={() => {
              setFilters({ ...filters, page: filters.page - 1 });
            }}
          >
            Newer entries
          </button>
          <button
            type="button"
            disabled={!page.next}
            onClick={() => {
              setFilters({ ...filters, page: filters.page + 1 });
            }}
          >
            Older entries
          </button>
        </nav>
      ) : null}
    </Layout>
  );
}
