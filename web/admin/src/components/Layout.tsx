import { useEffect, useRef, type ReactNode } from 'react';
import { href } from '../router';

export interface Me {
  id: number;
  email: string;
  first_name: string;
  last_name: string;
  role: string;
}

const PAGES: { path: string; label: string; superuserOnly?: boolean }[] = [
  { path: '', label: 'Dashboard' },
  { path: 'candidates', label: 'Candidates' },
  { path: 'sessions', label: 'Sessions' },
  { path: 'users', label: 'Users' },
  { path: 'privacy', label: 'Privacy' },
  { path: 'policy', label: 'Policy versions', superuserOnly: true },
  { path: 'audit', label: 'Audit log', superuserOnly: true },
  { path: 'jobs', label: 'Background jobs', superuserOnly: true },
];

/**
 * Every signed-in page: a skip link, the banner with who is signed in, the navigation (the current page
 * marked with aria-current, not only by colour) and the main region, whose heading takes focus when the
 * page changes so a screen reader announces where the person is.
 */
export function Layout({
  me,
  current,
  title,
  onSignOut,
  children,
}: {
  me: Me;
  current: string;
  title: string;
  onSignOut: () => void;
  children: ReactNode;
}) {
  const heading = useRef<HTMLHeadingElement>(null);
  const where = window.location.hash;
  useEffect(() => {
    document.title = `${title} · PSS staff console`;
  }, [title]);
  // Focus moves to the heading when the page changes, not when its title fills in after loading.
  useEffect(() => {
    heading.current?.focus();
  }, [where]);
  return (
    <>
      <a
        className="skip"
        href="#main"
        onClick={(e) => {
          e.preventDefault();
          heading.current?.focus();
        }}
      >
        Skip to main content
      </a>
      <header className="banner">
        <p className="brand">PSS staff console</p>
        <p className="who">
          Signed in as {me.first_name || me.email} ({me.role})
        </p>
        <button type="button" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <nav aria-label="Console">
        <ul>
          {PAGES.filter((p) => !p.superuserOnly || me.role === 'superuser').map((p) => (
            <li key={p.path}>
              <a
                href={href(...(p.path ? [p.path] : []))}
                aria-current={current === p.path ? 'page' : undefined}
              >
                {p.label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main">
        <h1 ref={heading} tabIndex={-1}>
          {title}
        </h1>
        {children}
      </main>
    </>
  );
}
