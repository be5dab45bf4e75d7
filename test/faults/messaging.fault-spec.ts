import { Ledgerline, Tenant, waitFor } from '../support/ledgerline';
import { SmsSink, SmtpSink } from '../support/message-sinks';

/**
 * Messages are sent exactly once through an SMTP outage (retried with backoff until the server
 * is back) and through a worker SIGKILLed mid-send (the claim's lease runs out, the next worker
 * sends again with the same Message-ID / Idempotency-Key; an SMTP transaction the dead worker
 * never saw answered was never delivered, and the SMS provider drops a repeated key).
 */
describe('consent-gated messaging survives an SMTP outage and a killed worker', () => {
  let ll: Ledgerline;
  let t: Tenant;
  let smtp: SmtpSink;
  let sms: SmsSink;

  beforeAll(async () => {
    smtp = await new SmtpSink().start();
    sms = await new SmsSink().start();
    ll = await Ledgerline.start({
      env: {
        SMTP_URL: smtp.url,
        PUBLIC_BASE_URL: 'http://ledgerline.test',
        SMS_PROVIDER_URL: sms.url,
        WEBHOOK_ALLOW_HTTP: 'true',
        WEBHOOK_ALLOWED_CIDRS: '127.0.0.1/32',
        MESSAGE_RETRY_SCHEDULE: '300ms,600ms,1s,1s,2s,2s,2s,2s,2s,2s',
        MESSAGE_SEND_LEASE_MS: '4000',
      },
    });
    t = await ll.createTenant('messaging-faults');
  });
  afterAll(async () => {
    await ll?.stop();
    await smtp?.stop();
    await sms?.stop();
  });

  const api = (method: string, path: string, body?: unknown) =>
    ll.request(method, path, { key: t.apiKey, body });

  async function contacts(n: number, channel: 'email' | 'sms'): Promise<string[]> {
    return Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const res = await api('POST', '/v1/contacts', {
          externalId: `${channel}-${i}-${Math.random().toString(36).slice(2)}`,
          email: `f${i}-${Math.random().toString(36).slice(2)}@example.com`,
          phone: `+4930${String(100000 + i)}`,
        });
        await api('POST', `/v1/contacts/${res.body.id}/consents`, {
          channel,
          status: 'granted',
          source: 'test',
        });
        return res.body.id as string;
      }),
    );
  }

  const send = async (contactIds: string[], channel: 'email' | 'sms') =>
    Promise.all(
      contactIds.map(async (contactId) => {
        const res = await api('POST', '/v1/messages', {
          contactId,
          channel,
          // transactional: never held by quiet hours, whatever time the suite runs
          category: 'transactional',
          subject: 'S',
          body: 'B',
        });
        expect(res.body.status).toBe('queued');
        return res.body.id as string;
      }),
    );

  const allSent = (ids: string[]) =>
    waitFor(
      `${ids.length} messages sent`,
      async () => {
        const views = await Promise.all(ids.map((id) => api('GET', `/v1/messages/${id}`)));
        return views.every((v) => v.body.status === 'sent') && views.map((v) => v.body);
      },
      60000,
      250,
    );

  async function sentEvents(ids: string[]): Promise<Map<string, number>> {
    const rows = await ll.sql<{ id: string; n: number }>(
      `SELECT data->>'messageId' AS id, count(*)::int AS n FROM events
       WHERE tenant_id = $1 AND type = 'messaging.message.sent' AND data->>'messageId' = ANY($2)
       GROUP BY 1`,
      [t.tenantId, ids],
    );
    return new Map(rows.map((r) => [r.id, r.n]));
  }

  it('SMTP down, then back: every message is retried and sent exactly once', async () => {
    const port = smtp.port;
    await smtp.stop();
    const ids = await send(await contacts(15, 'email'), 'email');
    await waitFor('retries while SMTP is down', async () => {
      const [r] = await ll.sql<{ n: number }>(
        `SELECT count(*)::int AS n FROM messages WHERE tenant_id = $1 AND attempts >= 2 AND id = ANY($2)`,
        [t.tenantId, ids],
      );
      return r.n === ids.length;
    });
    smtp = await new SmtpSink().start(port);
    const views = await allSent(ids);
    expect(views.every((v) => v.attempts >= 2)).toBe(true);
    for (const id of ids) expect(smtp.byHeader('x-ledgerline-message-id', id)).toHaveLength(1);
    const events = await sentEvents(ids);
    expect(ids.map((id) => events.get(id))).toEqual(ids.map(() => 1));
  });

  it('a worker SIGKILLed mid-send: every email and SMS delivered exactly once', async () => {
    smtp.holdMs = 2000;
    sms.holdMs = 1000;
    const emails = await send(await contacts(12, 'email'), 'email');
    const texts = await send(await contacts(12, 'sms'), 'sms');
    await waitFor('sends in flight', async () => smtp.inFlight > 0 && sms.inFlight > 0, 20000, 20);
    await ll.stopProc(ll.workers[0], 'SIGKILL');
    ll.workers.shift();
    smtp.holdMs = 0;
    sms.holdMs = 0;
    const [r] = await ll.sql<{ n: number }>(
      `SELECT count(*)::int AS n FROM messages WHERE tenant_id = $1 AND status = 'sending'`,
      [t.tenantId],
    );
    expect(r.n).toBeGreaterThan(0); // the dead worker held some
    await ll.startWorker();
    await allSent([...emails, ...texts]);
    for (const id of emails) expect(smtp.byHeader('x-ledgerline-message-id', id)).toHaveLength(1);
    for (const id of texts) {
      expect(sms.delivered.get(id)?.body.messageId).toBe(id);
      // every try of a message carried its own id as the key
      const tries = sms.received.filter((s) => s.body.messageId === id);
      expect(tries.every((s) => s.idempotencyKey === id)).toBe(true);
    }
    const events = await sentEvents([...emails, ...texts]);
    expect([...events.values()].every((n) => n === 1)).toBe(true);
    expect(events.size).toBe(emails.length + texts.length);
  });
});
