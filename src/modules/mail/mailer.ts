import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import nodemailer, { type Transporter } from 'nodemailer';
import type { Config } from '../../config.js';
import { templates, type TemplateData, type TemplateName } from './templates.js';

/**
 * Sends templated e-mail through a queue with retries (EMAIL_MAX_RETRIES, EMAIL_RETRY_DELAY_SECONDS):
 * `send` never throws and never waits for delivery, so a mail server problem never fails a request.
 * Backends: smtp (nodemailer), console (a log line), memory (kept for tests). In development every
 * message is also written as an .eml file to `<DATA_DIR>/outbox/`, so no mail server is needed.
 */
export interface SentMail {
  template: TemplateName;
  to: string;
  subject: string;
  text: string;
  html: string;
}

interface Logger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export function createMailer(
  config: Config,
  logger: Logger,
  /** Called once per message when it is delivered or given up (metrics `emails_total`). */
  onOutcome: (template: TemplateName, outcome: 'sent' | 'failed') => void = () => undefined,
) {
  const { email } = config;
  const sent: SentMail[] = [];
  const smtp: Transporter | null =
    email.backend === 'smtp'
      ? nodemailer.createTransport({
          host: email.host,
          port: email.port,
          secure: email.port === 465,
          requireTLS: email.useTls && email.port !== 465,
          ignoreTLS: !email.useTls,
          auth: email.user ? { user: email.user, pass: email.password } : undefined,
          connectionTimeout: 10_000,
          socketTimeout: 20_000,
        })
      : null;
  const builder = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  const outbox =
    config.env === 'development' && config.dataDir !== ':memory:'
      ? path.resolve(config.dataDir, 'outbox')
      : null;
  const pending = new Set<Promise<void>>();
  const counters = { sent: 0, failed: 0 };

  async function deliver(mail: SentMail): Promise<void> {
    const message = {
      from: email.from,
      to: mail.to,
      subject: mail.subject,
      text: mail.text,
      html: mail.html,
    };
    if (outbox) {
      const built = await builder.sendMail(message);
      await mkdir(outbox, { recursive: true });
      const name = `${new Date().toISOString().replace(/[:.]/g, '-')}-${mail.template}.eml`;
      await writeFile(path.join(outbox, name), built.message as Buffer, { mode: 0o600 });
    }
    if (email.backend === 'smtp' && smtp) await smtp.sendMail(message);
    else if (email.backend === 'memory') sent.push(mail);
    else logger.info({ template: mail.template }, 'e-mail (console backend; not sent)');
  }

  async function attempt(mail: SentMail): Promise<void> {
    for (let tryNo = 0; ; tryNo += 1) {
      try {
        await deliver(mail);
        counters.sent += 1;
        onOutcome(mail.template, 'sent');
        return;
      } catch (err) {
        if (tryNo >= email.maxRetries) {
          counters.failed += 1;
          onOutcome(mail.template, 'failed');
          // PRIVACY: the template name identifies the message; the address and body stay out of logs.
          // SMTP errors quote the recipient: addresses are masked before logging.
          const reason = (err as Error).message.replace(/[^\s<>"']+@[^\s<>"']+/g, '[address]').slice(0, 500);
          logger.error({ template: mail.template, err: reason }, 'e-mail could not be sent');
          return;
        }
        await new Promise((r) => setTimeout(r, email.retryDelaySeconds * 1000 * 2 ** tryNo));
      }
    }
  }

  return {
    sent,
    counters,
    send<T extends TemplateName>(template: T, to: string, data: TemplateData<T>): void {
      if (!email.notificationsEnabled || !to) return;
      const rendered = (templates[template] as (d: TemplateData<T>) => ReturnType<(typeof templates)[T]>)(
        data,
      );
      const job = attempt({ template, to, ...rendered });
      pending.add(job);
      void job.finally(() => pending.delete(job));
    },
    /** Sends to ADMIN_NOTIFICATION_EMAIL (skipped when empty). */
    notifyAdmin<T extends TemplateName>(template: T, data: TemplateData<T>): void {
      if (email.adminNotification) this.send(template, email.adminNotification, data);
    },
    /** Resolves when every queued message is delivered or given up (tests, shutdown). */
    async idle(): Promise<void> {
      while (pending.size) await Promise.allSettled([...pending]);
    },
    close(): void {
      smtp?.close();
    },
  };
}
export type Mailer = ReturnType<typeof createMailer>;
