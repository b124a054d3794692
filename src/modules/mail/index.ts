/** The mail module's public face: the queued mailer and its templates' names. */
export { createMailer, type Mailer, type SentMail } from './mailer.js';
export type { TemplateData, TemplateName } from './templates.js';
