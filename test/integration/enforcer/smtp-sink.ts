import { type AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';

export interface ReceivedEmail {
  messageId: string;
  idempotencyKey: string;
  subject: string;
  to: string[];
  /** The message as received, with quoted-printable soft breaks and escapes undone (for content checks). */
  raw: string;
}

function decodeQuotedPrintable(raw: string): string {
  const joined = raw.replace(/=\r?\n/g, '');
  const bytes: number[] = [];
  for (let i = 0; i < joined.length; i++) {
    const hex = joined[i] === '=' ? /^[0-9A-F]{2}$/.exec(joined.slice(i + 1, i + 3)) : null;
    if (hex) {
      bytes.push(parseInt(hex[0], 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(joined[i], 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

export interface SmtpSink {
  port: number;
  received: ReceivedEmail[];
  /** While set, every connection is answered `421` (the server is up but refuses mail). */
  refusing: boolean;
  /** Called with each complete message before the server answers; return false to leave the client hanging. */
  onMessage?: (email: ReceivedEmail) => boolean;
  byMessageId(messageId: string): ReceivedEmail[];
  close(): Promise<void>;
}

/** A real SMTP server (the `smtp-server` package) that keeps every message it accepts, in order. */
export async function startSmtpSink(): Promise<SmtpSink> {
  const sink: SmtpSink = {
    port: 0,
    received: [],
    refusing: false,
    byMessageId: (messageId) => sink.received.filter((m) => m.messageId === messageId),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onConnect(_session: SMTPServerSession, callback: (error?: Error) => void) {
      if (sink.refusing) {
        const error = new Error('Service not available, try again later') as Error & { responseCode: number };
        error.responseCode = 421;
        callback(error);
        return;
      }
      callback();
    },
    onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback: (error?: Error | null) => void) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const header = (name: string) =>
          new RegExp(`^${name}:\\s*(.+)$`, 'im').exec(raw.split(/\r?\n\r?\n/)[0])?.[1]?.trim() ?? '';
        const email: ReceivedEmail = {
          messageId: header('Message-ID'),
          idempotencyKey: header('X-UsageGuard-Idempotency-Key'),
          subject: header('Subject'),
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: decodeQuotedPrintable(raw),
        };
        sink.received.push(email);
        if (sink.onMessage && sink.onMessage(email) === false) return;
        callback(null);
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  sink.port = (server.server.address() as AddressInfo).port;
  return sink;
}
