import { useCallback, useEffect, useState } from 'react';
import { api, hasRefreshToken, onSessionChange, refreshSession, setTokens } from './api/client';
import type { Me } from './components/Layout';
import { Candidate } from './pages/Candidate';
import { Candidates } from './pages/Candidates';
import { Dashboard } from './pages/Dashboard';
import { Sessions } from './pages/Sessions';
import { Audit } from './pages/Audit';
import { Jobs } from './pages/Jobs';
import { PolicyVersions } from './pages/PolicyVersions';
import { Privacy } from './pages/Privacy';
import { Users } from './pages/Users';
import { SignIn } from './pages/SignIn';
import { useRoute } from './router';

type State = { kind: 'loading' } | { kind: 'signed-out'; notice?: string } | { kind: 'signed-in'; me: Me };

export function App() {
  const [state, setState] = useState<State>({ kind: 'loading' });
  const route = useRoute();

  const loadMe = useCallback(async () => {
    const { data } = await api.GET('/api/auth/me/');
    setState(data ? { kind: 'signed-in', me: data } : { kind: 'signed-out' });
  }, []);

  useEffect(() => {
    // A reload in the same tab keeps the session (its refresh token is in sessionStorage).
    if (hasRefreshToken()) {
      void refreshSession().then(async (ok) => {
        if (ok) await loadMe();
        else setState({ kind: 'signed-out' });
      });
    } else setState({ kind: 'signed-out' });
    return onSessionChange((signedIn) => {
      if (!signedIn)
        setState({ kind: 'signed-out', notice: 'Your session has ended. Sign in again to go on.' });
    });
  }, [loadMe]);

  if (state.kind === 'loading') {
    return (
      <main id="main">
        <p role="status">Loading…</p>
      </main>
    );
  }
  if (state.kind === 'signed-out') {
    return <SignIn notice={state.notice} onSignedIn={() => void loadMe()} />;
  }

  // The tokens leave this tab whatever the answer: a sign-out never leaves a session usable here.
  const signOut = async () => {
    let ended = false;
    try {
      ended = (await api.POST('/api/auth/logout/', { body: {} })).response.ok;
    } catch {
      ended = false;
    }
    setTokens(null);
    setState({
      kind: 'signed-out',
      notice: ended
        ? 'You have signed out.'
        : 'You have signed out in this tab. The service could not be reached to end the session there; it ends by itself when it expires, or end it from Sessions after you sign in again.',
    });
  };
  const props = { me: state.me, onSignOut: () => void signOut() };
  const [page, id] = route;
  if (page === 'candidates' && id) return <Candidate key={id} {...props} id={Number(id)} />;
  if (page === 'candidates') return <Candidates {...props} />;
  if (page === 'sessions') return <Sessions key={id ?? ''} {...props} email={id} />;
  if (page === 'users') return <Users {...props} />;
  if (page === 'privacy') return <Privacy {...props} />;
  if (page === 'policy' && state.me.role === 'superuser') return <PolicyVersions {...props} />;
  if (page === 'audit' && state.me.role === 'superuser') return <Audit {...props} />;
  if (page === 'jobs' && state.me.role === 'superuser') return <Jobs {...props} />;
  return <Dashboard {...props} />;
}
