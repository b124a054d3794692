/** A page of a paginated list of the API. */
interface Page<T> {
  count: number;
  next: string | null;
  previous: string | null;
  results: T[];
}

/** Hard stop, so a list that never ends cannot hang the page (100 per page: 5,000 items). */
const MAX_PAGES = 50;

/**
 * Every page of a list, for a view that must show all of it (pending deletion requests have legal
 * deadlines: one beyond the first page must not be missed). Fails like the first failing page.
 */
export async function allPages<T>(
  fetchPage: (page: number) => Promise<{ data?: Page<T>; error?: unknown; response: Response }>,
): Promise<{ data?: Page<T>; error?: unknown; response: Response }> {
  const first = await fetchPage(1);
  if (!first.data) return first;
  const results = [...first.data.results];
  let next = first.data.next;
  for (let page = 2; next !== null && page <= MAX_PAGES; page += 1) {
    const more = await fetchPage(page);
    if (!more.data) return more;
    results.push(...more.data.results);
    next = more.data.next;
  }
  return { ...first, data: { ...first.data, next: null, results } };
}
