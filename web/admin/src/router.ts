import { useEffect, useState } from 'react';

/**
 * Pages are addressed by the URL's hash (`/admin/#/candidates/4`), so the service serves one file for
 * every page and a reload or a bookmark lands on the same page.
 */
export function useRoute(): string[] {
  const read = () =>
    window.location.hash
      .replace(/^#\/?/, '')
      .split('/')
      .filter((part) => part !== '')
      .map((part) => {
        try {
          return decodeURIComponent(part);
        } catch {
          return part; // a malformed escape (`%`) is taken as written
        }
      });
  const [parts, setParts] = useState(read);
  useEffect(() => {
    const changed = () => {
      setParts(read());
    };
    window.addEventListener('hashchange', changed);
    return () => {
      window.removeEventListener('hashchange', changed);
    };
  }, []);
  return parts;
}

export const href = (...parts: (string | number)[]) =>
  `#/${parts.map((p) => encodeURIComponent(String(p))).join('/')}`;
