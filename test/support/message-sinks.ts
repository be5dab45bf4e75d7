import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  from: string;
  to: string[];
  headers: Record<string, string>;
  body: string;
  raw: string;
  /** The raw message with quoted-printable soft line breaks undone, so a long link reads whole. */
  text: string;
}

/** Header fields of a raw RFC 5322 message, names lower-cased, folded lines joined. */
function parseMail(raw: string): { headers: Record<string, string>; body: string } {
  const split = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ');
  const headers: Record<string, string> = {};
  for (const line of head.split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return { headers, body: raw.slice(split + 4) };
}

/**
 * A real SMTP server on 127.0.0.1 (port 0). A message counts as delivered when the server has
 * answered its DATA with 250; `holdMs` delays that answer (a client killed meanwhile never gets
 * it, so the message is not delivered, as in SMTP); `down()` refuses new messages with 421.
 */
export class SmtpSink {
  readonly mails: ReceivedMail[] = [];
  holdMs = 0;
  refusing = false;
  /** Messages whose DATA arrived and whose answer is being held. */
  inFlight = 0;
  private server?: SMTPServer;
  private readonly closed = new Set<string>();
  port = 0;

  async start(port = 0): Promise<this> {
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      size: 10 * 1024 * 1024,
      onConnect: (_session, cb) =>
        this.refusing ? cb(Object.assign(new Error('down'), { responseCode: 421 })) : cb(),
      onClose: (session) => {
        this.closed.add(session.id);
      },
      onData: (stream, session, cb) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          const deliver = () => {
            if (this.closed.has(session.id)) return cb(new Error('gone'));
            const { headers, body } = parseMail(raw);
            this.mails.push({
              from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
              to: session.envelope.rcptTo.map((r) => r.address),
              headers,
              body,
              raw,
              text: raw.replace(/=\r?\n/g, '').replace(/=3D/g, '='),
            });
            cb();
          };
          if (this.holdMs) {
            this.inFlight++;
            setTimeout(() => {
              this.inFlight--;
              deliver();
            }, this.holdMs);
          } else deliver();
        });
      },
    });
    // A client that goes away mid-session (a worker stopped by a test) surfaces here as
    // ECONNRESET; without a listener it would be an uncaught error in the test process.
    this.server.on('error', () => undefined);
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.server.address() as AddressInfo).port;
    return this;
  }

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  /** Mails whose header matches, e.g. byHeader('x-ledgerline-message-id', id). */
  byHeader(name: string, value: string): ReceivedMail[] {
    return this.mails.filter((m) => m.headers[name] === value);
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(resolve) : resolve()));
  }
}

export interface ReceivedSms {
  idempotencyKey: string | undefined;
  body: { messageId: string; channel: string; to: string; body: string };
}

/**
 * An SMS provider: records each accepted POST; `status` is what it answers (200 unless told),
 * `holdMs` how long it takes to answer. Like real providers it honours Idempotency-Key: a repeated
 * key is answered 200 again but `delivered` keeps one message per key.
 */
export class SmsSink {
  readonly received: ReceivedSms[] = [];
  readonly delivered = new Map<string, ReceivedSms>();
  status = 200;
  holdMs = 0;
  inFlight = 0;
  private server?: Server;
  port = 0;

  async start(): Promise<this> {
    this.server = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const status = this.status;
        if (status < 300) {
          const sms: ReceivedSms = {
            idempotencyKey: req.headers['idempotency-key'] as string | undefined,
            body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
          };
          this.received.push(sms);
          const key = sms.idempotencyKey ?? `none-${this.received.length}`;
          if (!this.delivered.has(key)) this.delivered.set(key, sms);
        }
        const answer = () => {
          this.inFlight--;
          if (!res.destroyed)
            res.writeHead(status, { 'content-type': 'application/json' }).end('{}');
        };
        this.inFlight++;
        if (this.holdMs) setTimeout(answer, this.holdMs);
        else answer();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/sms`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) =>
      this.server ? this.server.close(() => resolve()) : resolve(),
    );
  }
}
