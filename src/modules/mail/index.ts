/** The mail module's public face: the mailer (a queued job), its job's name and its templates' names. */
export {
  createMailer,
  MAIL_JOB,
  type EnqueueJob,
  type Mailer,
  type MailJob,
  type SentMail,
} from './mailer.js';
export type { TemplateData, TemplateName } from './templates.js';
