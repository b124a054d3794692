/** Plain types of privacy policy versions (docs/privacy.md#privacy-policy-versions). */

/** `POST privacy-policy/versions/` as the route (or the CLI) parsed it. */
export interface PolicyVersionInput {
  version: string;
  title: string;
  content: string;
  effective_date: string;
  is_active?: boolean;
}

/** The policy version object; key order is the contract's. */
export interface PolicyResponse {
  id: number;
  version: string;
  title: string;
  content: string;
  effective_date: string;
  is_active: boolean;
  created_at: string;
}
