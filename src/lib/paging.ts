import { ApiError } from './errors.js';

/**
 * The original's page-number pagination (docs/contract.md#pagination): `{count, next, previous, results}`,
 * page size 20, `?page=N`, addition `?page_size=` 1–100. Links are absolute and keep the other
 * query parameters and the path prefix used.
 */
export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

export interface PageRequest {
  page: number;
  pageSize: number;
  offset: number;
}

export interface Page<T> {
  count: number;
  next: string | null;
  previous: string | null;
  results: T[];
}

/** The absolute URL of page N of the list being answered (routes build it from the request). */
export type PageLink = (page: number) => string;

/** Links keep the other query parameters and the path prefix used; page 1 has no `page`. */
export function pageLinkFor(requestUrl: string, origin: string): PageLink {
  return (page) => {
    const url = new URL(requestUrl, origin);
    if (page === 1) url.searchParams.delete('page');
    else url.searchParams.set('page', String(page));
    return url.toString();
  };
}

const INVALID_PAGE = () => new ApiError(404, 'not_found', 'Invalid page.');

export function pageRequest(query: unknown): PageRequest {
  const q = (query ?? {}) as Record<string, unknown>;
  const rawPage = first(q.page);
  let page = 1;
  if (rawPage !== undefined && rawPage !== 'last') {
    if (!/^\d{1,9}$/.test(rawPage) || Number(rawPage) < 1) throw INVALID_PAGE();
    page = Number(rawPage);
  }
  const rawSize = first(q.page_size);
  let pageSize = DEFAULT_PAGE_SIZE;
  // As DRF: an unusable page_size falls back to the default; a large one is capped.
  if (rawSize !== undefined && /^\d{1,9}$/.test(rawSize) && Number(rawSize) >= 1) {
    pageSize = Math.min(Number(rawSize), MAX_PAGE_SIZE);
  }
  return { page, pageSize, offset: (page - 1) * pageSize };
}

function first(v: unknown): string | undefined {
  if (Array.isArray(v)) return first(v[0]);
  return typeof v === 'string' ? v : undefined;
}

/** The last page number; a page past it (other than page 1 of an empty list) is a 404. */
function lastPageOf(req: PageRequest, count: number): number {
  const lastPage = Math.max(1, Math.ceil(count / req.pageSize));
  if (req.page > lastPage) throw INVALID_PAGE();
  return lastPage;
}

/** Builds the page; a page past the end (other than page 1 of an empty list) is a 404. */
export function pageOf<T>(link: PageLink, req: PageRequest, count: number, results: T[]): Page<T> {
  const lastPage = lastPageOf(req, count);
  return {
    count,
    next: req.page < lastPage ? link(req.page + 1) : null,
    previous: req.page > 1 ? link(req.page - 1) : null,
    results,
  };
}

/** Runs the count and the page query (two statements whatever the page size). */
export async function paginate<Row, Out>(
  link: PageLink,
  query: unknown,
  fetch: (limit: number, offset: number) => Promise<Row[]>,
  count: () => Promise<number>,
  present: (rows: Row[]) => Promise<Out[]> | Out[],
): Promise<Page<Out>> {
  const req = pageRequest(query);
  const total = await count();
  lastPageOf(req, total); // before the page query: a page past the end costs no fetch
  const rows = total === 0 ? [] : await fetch(req.pageSize, req.offset);
  return pageOf(link, req, total, await present(rows));
}
