import { useState } from 'react';
import { failure, problemOf, type Problem } from '../api/client';

type Call = () => Promise<{ response: Response; error?: unknown }>;

/**
 * A page's changes through the API: runs one, then says what was done, or keeps the problem (with the
 * item it belongs to, so its field errors show on that item's form only) and reloads what it changed.
 */
export function useAction(reload: () => Promise<unknown>) {
  const [done, setDone] = useState<string | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [problemAt, setProblemAt] = useState<string | null>(null);

  /** True when the change was made. `at` names the item whose form sent it. */
  async function act(message: string, call: Call, at: string | null = null): Promise<boolean> {
    setDone(null);
    const result = await call();
    if (!result.response.ok) {
      setProblem(problemOf(failure(result)));
      setProblemAt(at);
      return false;
    }
    setProblem(null);
    setProblemAt(null);
    setDone(message);
    await reload();
    return true;
  }

  /** The field errors of the problem, for the form of item `at` only. */
  const errorsAt = (at: string | null, field: string) =>
    problem && problemAt === at ? problem.fields[field] : undefined;

  return { done, setDone, problem, problemAt, act, errorsAt };
}
