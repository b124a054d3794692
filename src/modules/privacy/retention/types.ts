/** Plain types of the inactivity schedules staff manage (docs/privacy.md#inactive-accounts). */
export interface ScheduleResponse {
  id: number;
  user: number;
  user_email: string;
  scheduled_deletion_date: string;
  first_warning_sent: string | null;
  second_warning_sent: string | null;
  exempted: boolean;
  exemption_reason: string;
  days_until_deletion: number | null;
  created_at: string;
  updated_at: string;
}
