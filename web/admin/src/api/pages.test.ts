import { describe, expect, it } from 'vitest';
import { allPages } from './pages';

const ok = (results: number[], next: string | null) => ({
  data: { count: 5, next, previous: null, results },
  response: new Response(null, { status: 200 }),
});

describe('allPages', () => {
  it('joins every page of a list, in order', async () => {
    const asked: number[] = [];
    const pages = [ok([1, 2], '?page=2'), ok([3, 4], '?page=3'), ok([5], null)];
    const result = await allPages((page) => {
      asked.push(page);
      return Promise.resolve(pages[page - 1] ?? ok([], null));
    });
    expect(asked).toEqual([1, 2, 3]);
    expect(result.data?.results).toEqual([1, 2, 3, 4, 5]);
    expect(result.data?.next).toBeNull();
  });

  it('answers the failure of a later page instead of a partial list', async () => {
    const failed = {
      error: { detail: 'Service unavailable' },
      response: new Response(null, { status: 503 }),
    };
    const result = await allPages((page) => Promise.resolve(page === 1 ? ok([1, 2], '?page=2') : failed));
    expect(result.data).toBeUndefined();
    expect(result.response.status).toBe(503);
  });
});
