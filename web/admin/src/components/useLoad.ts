import { useCallback, useEffect, useRef, useState } from 'react';
import { problemOf, type Problem } from '../api/client';

/** Loads data for a page: the data, the problem if it failed, and a way to load again. */
export function useLoad<T>(load: () => Promise<{ data?: T; error?: unknown }>, deps: unknown[]) {
  const [data, setData] = useState<T | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [loading, setLoading] = useState(true);
  const run = useCallback(load, deps);
  // Only the latest request's answer counts: a slow earlier one never overwrites a newer one.
  const latest = useRef(0);
  const reload = useCallback(async () => {
    const ticket = (latest.current += 1);
    setLoading(true);
    try {
      const { data: loaded, error } = await run();
      if (ticket !== latest.current) return;
      if (loaded !== undefined) {
        setData(loaded);
        setProblem(null);
      } else setProblem(problemOf(error));
    } catch {
      if (ticket === latest.current) setProblem(problemOf(null));
    } finally {
      if (ticket === latest.current) setLoading(false);
    }
  }, [run]);
  useEffect(() => {
    void reload();
  }, [reload]);
  return { data, problem, loading, reload };
}
