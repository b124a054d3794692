import type { NoteCategory } from './input.js';

/** An admin note as answered (docs/contract.md#admin-notes), keys in the contract's order. */
export interface NoteResponse {
  id: number;
  category: NoteCategory;
  title: string;
  content: string;
  is_important: boolean;
  tags: string[];
  created_at: string;
  updated_at: string;
  candidate: number;
  admin: number | null;
}
