import { useState } from 'react';
import { api, failure, problemOf, type Problem } from '../api/client';
import { fieldText, type Submit } from '../components/forms';
import { Alert, Field, Select } from '../components/Field';
import { Layout, type Me } from '../components/Layout';
import { useAction } from '../components/useAction';
import { useLoad } from '../components/useLoad';
import { Table } from '../components/Table';

const STATUS = [
  ['true', 'Active accounts'],
  ['false', 'Inactive accounts'],
] as const;
const ROLE_FILTER = [
  ['', 'Every role'],
  ['candidate', 'Candidates'],
  ['admin', 'Admins'],
  ['superuser', 'Superusers'],
] as const;
const ROLES = [
  ['candidate', 'Candidate'],
  ['admin', 'Admin'],
  ['superuser', 'Superuser'],
] as const;

/**
 * Accounts: find them, create one, switch an account off or on again, and (superusers) change a role.
 * Switching off ends every session of the person at once; a role change signs them out too.
 */
export function Users({ me, onSignOut }: { me: Me; onSignOut: () => void }) {
  const [query, setQuery] = useState({ search: '', role: '', active: 'true' });
  const list = useLoad(
    () =>
      api.GET('/api/users/', {
        params: {
          query: {
            search: query.search || undefined,
            role: (query.role || undefined) as 'candidate' | undefined,
            is_active: query.active,
            page_size: 50,
          },
        },
      }),
    [query],
  );
  const users = list.data?.results ?? [];
  const { done, setDone, problem, act } = useAction(list.reload);
  const superuser = me.role === 'superuser';

  const search = (e: Submit) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    setQuery({
      search: fieldText(form, 'search').trim(),
      role: fieldText(form, 'role'),
      active: fieldText(form, 'active'),
    });
  };

  const changeRole = (id: number, email: string) => (e: Submit) => {
    e.preventDefault();
    const role = fieldText(new FormData(e.currentTarget), 'role') as 'candidate';
    void act(`${email} is now ${role}; they sign in again.`, () =>
      api.PATCH('/api/users/{id}/', { params: { path: { id } }, body: { role } }),
    );
  };

  return (
    <Layout me={me} current="users" title="Users" onSignOut={onSignOut}>
      <form role="search" aria-label="Find accounts" onSubmit={search} className="inline-form">
        <Field label="Name or e-mail contains" name="search" type="search" defaultValue={query.search} />
        <Select label="Show role" name="role" defaultValue={query.role} options={ROLE_FILTER} />
        <Select label="Status" name="active" defaultValue={query.active} options={STATUS} />
        <button type="submit">Show accounts</button>
      </form>
      {done ? <Alert tone="success">{done}</Alert> : null}
      {problem ? <Alert>{problem.message}</Alert> : null}
      {list.problem ? <Alert>{list.problem.message}</Alert> : null}
      <p role="status" className="count">
        {list.loading
          ? 'Loading accounts…'
          : `${list.data?.count ?? 0} account${list.data?.count === 1 ? '' : 's'}`}
      </p>
      {users.length > 0 ? (
        <Table label="Accounts">
          <caption className="visually-hidden">
            {query.active === 'true' ? 'Active' : 'Inactive'} accounts
          </caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">E-mail</th>
              <th scope="col">Role</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {users.map((u) => {
              const name = `${u.first_name} ${u.last_name}`.trim() || u.email;
              const self = u.id === me.id;
              return (
                <tr key={u.id}>
                  <th scope="row">{name}</th>
                  <td>{u.email}</td>
                  <td>{u.role}</td>
                  <td>
                    {self ? (
                      'You'
                    ) : (
                      <>
                        {query.active === 'true' ? (
                          <button
                            type="button"
                            aria-label={`Deactivate ${u.email}`}
                            onClick={() =>
                              void act(`${u.email} is deactivated and signed out everywhere.`, () =>
                                api.PATCH('/api/users/{id}/deactivate/', { params: { path: { id: u.id } } }),
                              )
                            }
                          >
                            Deactivate
                          </button>
                        ) : (
                          <button
                            type="button"
                            aria-label={`Activate ${u.email}`}
                            onClick={() =>
                              void act(`${u.email} is active again.`, () =>
                                api.PATCH('/api/users/{id}/activate/', { params: { path: { id: u.id } } }),
                              )
                            }
                          >
                            Activate
                          </button>
                        )}
                        {superuser ? (
                          <form className="inline-form" onSubmit={changeRole(u.id, u.email)}>
                            <Select
                              label={`Role of ${u.email}`}
                              name="role"
                              defaultValue={u.role}
                              options={ROLES}
                            />
                            <button type="submit">Change role</button>
                          </form>
                        ) : null}
                      </>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </Table>
      ) : null}
      <CreateUser
        superuser={superuser}
        onCreated={(email) => {
          setDone(`The account ${email} was created.`);
          void list.reload();
        }}
      />
    </Layout>
  );
}

function CreateUser({ superuser, onCreated }: { superuser: boolean; onCreated: (email: string) => void }) {
  const [problem, setProblem] = useState<Problem | null>(null);
  const submit = async (e: Submit) => {
    e.preventDefault();
    const formElement = e.currentTarget;
    const form = new FormData(formElement);
    const password = fieldText(form, 'password');
    const email = fieldText(form, 'email').trim();
    const result = await api.POST('/api/users/', {
      body: {
        email,
        first_name: fieldText(form, 'first_name'),
        last_name: fieldText(form, 'last_name'),
        role: superuser ? fieldText(form, 'role') : 'candidate',
        ...(password ? { password } : {}),
      },
    });
    if (!result.response.ok) {
      setProblem(problemOf(failure(result)));
      return;
    }
    setProblem(null);
    formElement.reset();
    onCreated(email);
  };
  return (
    <section aria-labelledby="create-user" className="panel">
      <h2 id="create-user">Create an account</h2>
      {problem ? <Alert>{problem.message}</Alert> : null}
      <form onSubmit={(e) => void submit(e)}>
        <Field label="E-mail address" name="email" type="email" required errors={problem?.fields.email} />
        <Field label="First name" name="first_name" maxLength={150} errors={problem?.fields.first_name} />
        <Field label="Last name" name="last_name" maxLength={150} errors={problem?.fields.last_name} />
        {superuser ? (
          <Select
            label="Role"
            name="role"
            defaultValue="candidate"
            options={ROLES}
            errors={problem?.fields.role}
          />
        ) : null}
        <Field
          label="Password"
          name="password"
          type="password"
          autoComplete="new-password"
          hint="Optional. Left empty, the person sets a password with “Forgot password” before the first sign-in. Staff enrol 2FA at their first sign-in."
          errors={problem?.fields.password}
        />
        <button type="submit">Create account</button>
      </form>
    </section>
  );
}
