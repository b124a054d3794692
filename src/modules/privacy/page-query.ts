import { z } from 'zod';

/**
 * Query string of a paginated privacy list: the pager reads `page` / `page_size`
 * (docs/contract.md#pagination).
 */
export const PageQuery = z.looseObject({
  page: z.unknown().optional(),
  page_size: z.unknown().optional(),
});
