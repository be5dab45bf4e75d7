// Consent-gated messaging: the ConsentGate's decision latency (p50/p99) with 1,000,000
// consent-log records (baseline: the single newest-record SELECT through pg, same run), and
// emails accepted by POST /v1/messages and delivered to a local SMTP server per second
// (baseline: raw nodemailer sends to the same server, same run). Never asserted on time.
'use strict';
const { join } = require('node:path');
const { Pool } = require('pg');
const { Agent, request } = require('undici');
const { createTransport } = require('nodemailer');
const { SMTPServer } = require('smtp-server');
const { Stack, report, percentile, waitFor } = require('./lib');

const DIST = join(__dirname, '..', '..', 'dist/apps/worker/libs');
const CONTACTS = Number(process.env.BENCH_CONSENT_CONTACTS || 100000);
const PER_CONTACT = 10; // 1,000,000 consent records
const DECISIONS = 5000;
const EMAILS = Number(process.env.BENCH_EMAILS || 5000);
const CLIENTS = 32;

function smtpSink() {
  const sink = { received: 0 };
  sink.server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, _session, cb) {
      stream.on('data', () => undefined);
      stream.on('end', () => {
        sink.received++;
        cb();
      });
    },
  });
  return new Promise((resolve) =>
    sink.server.listen(0, '127.0.0.1', () => {
      sink.port = sink.server.server.address().port;
      resolve(sink);
    }),
  );
}

async function gateBench(stack) {
  const t = stack.tenant.tenantId;
  // 100,000 contacts with 10 consent records each, across the five channels.
  await stack.query(
    `INSERT INTO contacts (tenant_id, id, external_id, email, phone, created_at, updated_at)
     SELECT $1, gen_random_uuid(), 'c' || g, 'c' || g || '@example.com', '+49301' || g, now(), now()
     FROM generate_series(1, $2) g`,
    [t, CONTACTS],
  );
  await stack.query(
    `INSERT INTO consent_log (tenant_id, id, contact_id, channel, status, source, actor_type, recorded_at)
     SELECT c.tenant_id, gen_random_uuid(), c.id,
            (ARRAY['email','sms','whatsapp','phone','postal'])[1 + (r % 5)],
            (ARRAY['granted','withdrawn','denied','granted'])[1 + ((r / 5) % 4)],
            'bench', 'system', now()
     FROM contacts c, generate_series(0, $2 - 1) r WHERE c.tenant_id = $1`,
    [t, PER_CONTACT],
  );
  await stack.query('ANALYZE contacts; ANALYZE consent_log');
  const [{ n }] = await stack.query('SELECT count(*)::int AS n FROM consent_log');
  const ids = (await stack.query('SELECT id FROM contacts WHERE tenant_id = $1', [t])).map(
    (r) => r.id,
  );

  const pool = new Pool({ connectionString: stack.dbUrl, max: 2 });
  pool.on('error', () => undefined);
  const sql = {
    query: (text, values, name) => pool.query({ text, values, name }).then((r) => r.rows),
  };
  const { ContactRepository } = require(join(DIST, 'consent/src/contact.repository.js'));
  const { ConsentLogRepository } = require(join(DIST, 'consent/src/consent-log.repository.js'));
  const { ConsentSettingsRepository } = require(
    join(DIST, 'consent/src/consent-settings.repository.js'),
  );
  const { ConsentGateReader } = require(join(DIST, 'consent/src/consent-gate-reader.js'));
  const { ConsentGate } = require(join(DIST, 'consent/src/consent-gate.js'));
  const gate = new ConsentGate(
    new ConsentGateReader(
      new ContactRepository(sql),
      new ConsentLogRepository(sql),
      new ConsentSettingsRepository(sql),
    ),
  );
  const pick = (i) => ids[(i * 7919) % ids.length];
  const time = async (once) => {
    for (let i = 0; i < 200; i++) await once(i); // warm the plans and the cache
    const ms = [];
    for (let i = 0; i < DECISIONS; i++) {
      const start = process.hrtime.bigint();
      await once(i);
      ms.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    return ms.sort((a, b) => a - b);
  };
  const raw = await time((i) =>
    pool.query({
      name: 'raw_newest',
      text: `SELECT id, status FROM consent_log WHERE tenant_id = $1 AND contact_id = $2 AND channel = $3
             ORDER BY seq DESC LIMIT 1`,
      values: [t, pick(i), 'email'],
    }),
  );
  const decided = await time((i) => gate.check(sql, t, pick(i), 'email', 'marketing'));
  report('consent_gate_decision_p99', percentile(decided, 99), 'ms', percentile(raw, 99), {
    p50: Math.round(percentile(decided, 50) * 1000) / 1000,
    rawP50: Math.round(percentile(raw, 50) * 1000) / 1000,
    consentRecords: n,
    decisions: DECISIONS,
  });
  await pool.end();
}

async function emailBench(stack, sink) {
  const t = stack.tenant.tenantId;
  await stack.query(
    `WITH c AS (
       INSERT INTO contacts (tenant_id, id, external_id, email, created_at, updated_at)
       SELECT $1, gen_random_uuid(), 'm' || g, 'm' || g || '@example.com', now(), now()
       FROM generate_series(1, $2) g RETURNING tenant_id, id)
     INSERT INTO consent_log (tenant_id, id, contact_id, channel, status, source, actor_type, recorded_at)
     SELECT tenant_id, gen_random_uuid(), id, 'email', 'granted', 'bench', 'system', now() FROM c`,
    [t, EMAILS],
  );
  const contacts = (
    await stack.query(`SELECT id FROM contacts WHERE tenant_id = $1 AND external_id LIKE 'm%'`, [t])
  ).map((r) => r.id);

  // Raw baseline: nodemailer alone, the same pooled transport settings as the Mailer.
  const transport = createTransport({
    url: `smtp://127.0.0.1:${sink.port}`,
    pool: true,
    maxConnections: 10, // SMTP_POOL_SIZE's default
  });
  let next = 0;
  const rawStart = Date.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (next < EMAILS) {
        const i = next++;
        await transport.sendMail({
          from: 'bench@example.com',
          to: `m${i}@example.com`,
          subject: 'Offer',
          text: 'Hello',
          headers: { 'List-Unsubscribe': '<https://x/unsubscribe/t>' },
        });
      }
    }),
  );
  const rawRate = EMAILS / ((Date.now() - rawStart) / 1000);
  transport.close();

  const before = sink.received;
  const commits = async () =>
    (
      await stack.query(
        'SELECT xact_commit::int AS n FROM pg_stat_database WHERE datname = current_database()',
      )
    )[0].n;
  const commitsBefore = await commits();
  const agent = new Agent({ connections: CLIENTS, keepAliveTimeout: 30000 });
  const headers = {
    'content-type': 'application/json',
    authorization: `Bearer ${stack.tenant.apiKey}`,
  };
  next = 0;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (next < contacts.length) {
        const contactId = contacts[next++];
        const res = await request(`${stack.baseUrl}/v1/messages`, {
          method: 'POST',
          headers,
          dispatcher: agent,
          body: JSON.stringify({
            contactId,
            channel: 'email',
            category: 'marketing',
            subject: 'Offer',
            body: 'Hello',
          }),
        });
        const text = await res.body.text();
        if (res.statusCode !== 202 || !text.includes('"queued"'))
          throw new Error(`send: ${res.statusCode} ${text}`);
      }
    }),
  );
  const acceptedRate = contacts.length / ((Date.now() - started) / 1000);
  await waitFor(
    'every email delivered',
    async () => sink.received - before >= contacts.length,
    600000,
    100,
  );
  const sentRate = contacts.length / ((Date.now() - started) / 1000);
  await new Promise((r) => setTimeout(r, 1500)); // statistics reach pg_stat_database within 1 s
  const commitsPerEmail = (await commits()) - commitsBefore;
  report('emails_accepted_and_sent', sentRate, 'emails/s', rawRate, {
    emails: contacts.length,
    acceptedPerSecond: Math.round(acceptedRate),
    // Transactions committed per email (API, worker, relay, audit): the cost that batching cuts.
    commitsPerEmail: Math.round((commitsPerEmail / contacts.length) * 100) / 100,
    clients: CLIENTS,
  });
  await agent.close();
}

async function main() {
  const sink = await smtpSink();
  const stack = await new Stack({
    SMTP_URL: `smtp://127.0.0.1:${sink.port}`,
    PUBLIC_BASE_URL: 'http://bench.test',
  }).start();
  try {
    await gateBench(stack);
    // The gate's million rows leave vacuum and checkpoint work behind: done now, it is not
    // measured as part of the emails' cost.
    await stack.query('VACUUM ANALYZE');
    await stack.query('CHECKPOINT');
    await emailBench(stack, sink);
  } finally {
    await stack.stop();
    sink.server.close();
  }
}

main().catch((err) => {
  process.stderr.write(`${err.stack}\n`);
  process.exit(1);
});
