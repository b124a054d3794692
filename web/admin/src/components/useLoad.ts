import { useCallback, useEffect, useState } from 'react';
import { problemOf, type Problem } from '../api/client';

/** Loads data for a page: the data, the problem if it failed, and a way to load again. */
export function useLoad<T>(load: () => Promise<{ data?: T; error?: unknown }>, deps: unknown[]) {
  const [data, setData] = useState<T | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [loading, setLoading] = useState(true);
  const run = useCallback(load, deps);
  const reload = useCallback(async () => {
    setLoading(true);
    try {
      const { data: loaded, error } = await run();
      if (loaded !== undefined) {
        setData(loaded);
        setProblem(null);
      } else setProblem(problemOf(error));
    } catch {
      setProblem(problemOf(null));
    } finally {
      setLoading(false);
    }
  }, [run]);
  useEffect(() => {
    void reload();
  }, [reload]);
  return { data, problem, loading, reload };
}
