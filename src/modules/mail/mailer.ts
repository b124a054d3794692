import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import nodemailer, { type Transporter } from 'nodemailer';
import type { Config } from '../../config.js';
import type { DbOrTx } from '../../db/client.js';
import { templates, type TemplateData, type TemplateName } from './templates.js';

/**
 * Templated e-mail as a background job (docs/operations.md#background-jobs): `send` and `queue` write
 * the message's job (`email.send`) durably and return; the worker renders and delivers it, with the
 * queue's retries (EMAIL_MAX_RETRIES, EMAIL_RETRY_DELAY_SECONDS doubling), so a mail server problem
 * never fails a request. Backends: smtp (nodemailer), console (a log line), memory (kept for tests).
 * In development every message is also written as an .eml file to `<DATA_DIR>/outbox/`.
 */
export interface SentMail {
  template: TemplateName;
  to: string;
  subject: string;
  text: string;
  html: string;
}

/** The data of an `email.send` job (sealed in the outbox: it holds an address and maybe a link). */
export interface MailJob {
  template: TemplateName;
  to: string;
  data: unknown;
}

export const MAIL_JOB = 'email.send';

interface Logger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Where mail jobs go: the job runner's `enqueue` (in `tx` when given). */
export type EnqueueJob = (job: string, data: unknown, tx?: DbOrTx) => Promise<void>;

const isTemplate = (name: unknown): name is TemplateName =>
  typeof name === 'string' && Object.prototype.hasOwnProperty.call(templates, name);

export function createMailer(
  config: Config,
  logger: Logger,
  /** Called once per delivery attempt (metrics `emails_total`): sent, or failed (retried or given up). */
  onOutcome: (template: TemplateName, outcome: 'sent' | 'failed') => void = () => undefined,
) {
  const { email } = config;
  const sent: SentMail[] = [];
  let enqueue: EnqueueJob | undefined;
  let handOver: () => void = () => undefined;
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

  async function transmit(mail: SentMail): Promise<void> {
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

  function job<T extends TemplateName>(template: T, to: string, data: TemplateData<T>): MailJob | null {
    if (!email.notificationsEnabled || !to) return null;
    return { template, to, data };
  }

  return {
    sent,
    /** Connects the mailer to the job runner (the composition root does it once). */
    useQueue(fn: EnqueueJob, kick: () => void): void {
      enqueue = fn;
      handOver = kick;
    },
    /** After the commit of a transaction that queued messages: deliver now, not at the next sweep. */
    kick(): void {
      handOver();
    },
    /**
     * Queues a message in `tx`: it exists only if that transaction commits, and nothing is lost if the
     * process stops right after. Prefer this where the cause of the message is written in a transaction.
     */
    async queue<T extends TemplateName>(
      tx: DbOrTx,
      template: T,
      to: string,
      data: TemplateData<T>,
    ): Promise<void> {
      const mail = job(template, to, data);
      if (!mail) return;
      if (!enqueue) throw new Error('the mailer is not connected to a job queue');
      await enqueue(MAIL_JOB, mail, tx);
    },
    /** Queues a message after a commit (its own statement); never throws, a failure is logged. */
    send<T extends TemplateName>(template: T, to: string, data: TemplateData<T>): void {
      const mail = job(template, to, data);
      if (!mail) return;
      if (!enqueue) throw new Error('the mailer is not connected to a job queue');
      enqueue(MAIL_JOB, mail).catch((err: unknown) => {
        // PRIVACY: the template name identifies the message; the address and body stay out of logs.
        logger.error({ template, err: (err as Error).name }, 'e-mail could not be queued');
        onOutcome(template, 'failed');
      });
    },
    /** As `queue`, to ADMIN_NOTIFICATION_EMAIL (skipped when empty). */
    async queueAdmin<T extends TemplateName>(tx: DbOrTx, template: T, data: TemplateData<T>): Promise<void> {
      if (email.adminNotification) await this.queue(tx, template, email.adminNotification, data);
    },
    /** Sends to ADMIN_NOTIFICATION_EMAIL (skipped when empty), after the event (see `send`). */
    notifyAdmin<T extends TemplateName>(template: T, data: TemplateData<T>): void {
      if (email.adminNotification) this.send(template, email.adminNotification, data);
    },
    /** The `email.send` job: renders and delivers once; throws so that the queue retries. */
    async deliver(job: unknown): Promise<{ template: string }> {
      const { template, to, data } = (job ?? {}) as Partial<MailJob>;
      if (!isTemplate(template) || typeof to !== 'string') throw new Error('malformed e-mail job');
      const render = templates[template] as (d: unknown) => { subject: string; text: string; html: string };
      try {
        await transmit({ template, to, ...render(data) });
      } catch (err) {
        onOutcome(template, 'failed');
        throw err;
      }
      onOutcome(template, 'sent');
      return { template };
    },
    close(): void {
      smtp?.close();
    },
  };
}
export type Mailer = ReturnType<typeof createMailer>;
