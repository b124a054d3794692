/** Plain types of data export (docs/privacy.md#data-export). */

export type ExportStatus = 'pending' | 'processing' | 'completed' | 'failed';

/** An export job; keys in the contract's order. */
export interface ExportJobResponse {
  id: number;
  requested_at: string;
  status: ExportStatus;
  status_display: string;
  completed_at: string | null;
  download_count: number;
  expires_at: string | null;
}

/** The export file: JSON text as built (2-space indent), sent as an attachment. */
export interface ExportFile {
  filename: string;
  body: string;
}
