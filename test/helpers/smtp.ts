import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  from: string;
  to: string[];
  subject: string;
  text: string;
  html: string;
}

/**
 * A real SMTP server on 127.0.0.1 (random port) that keeps what it receives. `holdFirst`: the first
 * message's DATA is read but never acknowledged (a sender stuck mid-delivery); `held` resolves then.
 * `delayMs`: every message is acknowledged only after this long (a slow mail server: deliveries stay
 * in flight long enough for a test to cut something under them).
 */
export async function startSmtpServer(opts: { holdFirst?: boolean; delayMs?: number } = {}): Promise<{
  port: number;
  inbox: ReceivedMail[];
  held: Promise<void>;
  close: () => Promise<void>;
}> {
  const inbox: ReceivedMail[] = [];
  let hold = opts.holdFirst === true;
  let markHeld: () => void = () => undefined;
  const held = new Promise<void>((resolve) => {
    markHeld = resolve;
  });
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      if (hold) {
        hold = false;
        stream.resume();
        stream.on('end', markHeld);
        return;
      }
      simpleParser(stream)
        .then(async (mail) => {
          if (opts.delayMs) await new Promise((resolve) => setTimeout(resolve, opts.delayMs));
          inbox.push({
            from: mail.from?.text ?? '',
            to: (session.envelope.rcptTo ?? []).map((r) => r.address),
            subject: mail.subject ?? '',
            text: mail.text ?? '',
            html: typeof mail.html === 'string' ? mail.html : '',
          });
          callback();
        })
        .catch((err: unknown) => {
          callback(err instanceof Error ? err : new Error(String(err)));
        });
    },
  });
  await new Promise<void>((resolve) => {
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.server.address() as AddressInfo;
  const close = () =>
    new Promise<void>((resolve) => {
      server.close(() => {
        resolve();
      });
    });
  return { port, inbox, held, close };
}
