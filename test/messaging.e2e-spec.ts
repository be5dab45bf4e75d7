import { execFileSync } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { chromium, BrowserContext } from 'playwright-core';
import { Ledgerline, RUNTIME_ROLE, sleep, Tenant, waitFor } from './support/ledgerline';
import { SmsSink, SmtpSink } from './support/message-sinks';

const PUBLIC = 'http://ledgerline.test';
const UA = 'LedgerlineTest/1.0 (preference centre)';

describe('consent and consent-gated messaging (SPEC 7)', () => {
  let ll: Ledgerline;
  let t: Tenant;
  let other: Tenant;
  let quiet: Tenant;
  let gdpr: Tenant;
  let smtp: SmtpSink;
  let sms: SmsSink;
  const run = Math.random().toString(36).slice(2, 8);

  const api = (method: string, path: string, body?: unknown, key = t.apiKey) =>
    ll.request(method, path, { key, body });
  /** A link under PUBLIC_BASE_URL, served by this suite's API. */
  const local = (url: string) => url.replace(PUBLIC, ll.baseUrl);

  async function contact(fields: Record<string, unknown> = {}, tenant = t) {
    const res = await api(
      'POST',
      '/v1/contacts',
      { externalId: `c-${Math.random().toString(36).slice(2)}`, ...fields },
      tenant.apiKey,
    );
    expect(res.status).toBe(201);
    return res.body.id as string;
  }
  async function consent(id: string, channel: string, status: string, extra = {}, tenant = t) {
    const res = await api(
      'POST',
      `/v1/contacts/${id}/consents`,
      { channel, status, source: 'signup_form', ...extra },
      tenant.apiKey,
    );
    expect(res.status).toBe(201);
    return res.body;
  }
  async function send(body: Record<string, unknown>, tenant = t) {
    const res = await api('POST', '/v1/messages', body, tenant.apiKey);
    expect(res.status).toBe(202);
    return res.body;
  }
  const message = (id: string, tenant = t) =>
    api('GET', `/v1/messages/${id}`, undefined, tenant.apiKey).then((r) => r.body);
  const settled = (id: string) =>
    waitFor(`message ${id} settled`, async () => {
      const m = await message(id);
      return ['sent', 'failed', 'suppressed'].includes(m.status) && m;
    });

  beforeAll(async () => {
    smtp = await new SmtpSink().start();
    sms = await new SmsSink().start();
    ll = await Ledgerline.start({
      env: {
        SMTP_URL: smtp.url,
        SMS_PROVIDER_URL: sms.url,
        PUBLIC_BASE_URL: PUBLIC,
        WEBHOOK_ALLOW_HTTP: 'true',
        WEBHOOK_ALLOWED_CIDRS: '127.0.0.1/32',
        MESSAGE_RETRY_SCHEDULE: '200ms,400ms',
      },
    });
    [t, other, quiet, gdpr] = await Promise.all(
      ['msg', 'other', 'quiet', 'gdpr'].map((n) => ll.createTenant(`${n}-${run}`)),
    );
  });

  afterAll(async () => {
    await ll?.stop();
    await smtp?.stop();
    await sms?.stop();
  });

  it('keeps contacts: unique externalId, IANA time zones, PATCH', async () => {
    const created = await api('POST', '/v1/contacts', {
      externalId: `ext-${run}`,
      email: 'Ada@Example.com',
      timeZone: 'Europe/Berlin',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ externalId: `ext-${run}`, timeZone: 'Europe/Berlin' });
    expect((await api('POST', '/v1/contacts', { externalId: `ext-${run}` })).status).toBe(409);
    const badZone = await api('POST', '/v1/contacts', {
      externalId: 'z',
      timeZone: 'Mars/Olympus',
    });
    expect(badZone.status).toBe(400);
    expect(badZone.body.errors[0].field).toBe('timeZone');
    const patched = await api('PATCH', `/v1/contacts/${created.body.id}`, { phone: '+4930123456' });
    expect(patched.body.phone).toBe('+4930123456');
    expect((await api('GET', `/v1/contacts/${created.body.id}`)).body.email).toBe(
      'Ada@Example.com',
    );
    expect(
      (await api('GET', `/v1/contacts/${created.body.id}`, undefined, other.apiKey)).status,
    ).toBe(404);
  });

  it('derives state from an append-only consent log the database will not rewrite', async () => {
    const id = await contact({ email: `log-${run}@example.com` });
    expect((await api('GET', `/v1/contacts/${id}/consents`)).body).toEqual({
      email: 'unknown',
      sms: 'unknown',
      whatsapp: 'unknown',
      phone: 'unknown',
      postal: 'unknown',
    });
    await consent(id, 'email', 'granted', {
      evidence: { noticeVersion: 'v3', text: 'Yes please' },
    });
    await consent(id, 'email', 'withdrawn');
    expect((await api('GET', `/v1/contacts/${id}/consents`)).body.email).toBe('withdrawn');
    const log = (await api('GET', `/v1/contacts/${id}/consent-log`)).body.data;
    expect(log.map((r: { status: string }) => r.status)).toEqual(['granted', 'withdrawn']);
    expect(log[0]).toMatchObject({
      channel: 'email',
      source: 'signup_form',
      evidence: { noticeVersion: 'v3' },
      actor: { type: 'api_key' },
      ip: expect.any(String),
    });
    await expect(ll.sql(`UPDATE consent_log SET status = 'granted'`)).rejects.toThrow();
    await expect(ll.sql(`DELETE FROM consent_log`)).rejects.toThrow();
  });

  it('sends granted marketing mail with RFC 8058 headers; one-click POST withdraws', async () => {
    const id = await contact({ email: `granted-${run}@example.com` });
    const grant = await consent(id, 'email', 'granted');
    const m = await send({
      contactId: id,
      channel: 'email',
      category: 'marketing',
      subject: 'News',
      body: 'Hello',
    });
    expect(m.status).toBe('queued');
    const done = await settled(m.id);
    expect(done.status).toBe('sent');
    expect(done.checks).toEqual([
      expect.objectContaining({
        at: 'accepted',
        allowed: true,
        reason: null,
        consentLogId: grant.id,
      }),
      expect.objectContaining({
        at: 'sending',
        allowed: true,
        reason: null,
        consentLogId: grant.id,
      }),
    ]);
    const [mail] = smtp.byHeader('x-ledgerline-message-id', m.id);
    expect(mail.to).toEqual([`granted-${run}@example.com`]);
    expect(mail.headers['list-unsubscribe-post']).toBe('List-Unsubscribe=One-Click');
    const link = /^<(.+)>$/.exec(mail.headers['list-unsubscribe'])![1];
    expect(link.startsWith(`${PUBLIC}/unsubscribe/`)).toBe(true);

    const page = await fetch(local(link));
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('Your communication preferences');
    // The unsubscribe link (forwardable, in every mail) cannot erase: no form, and a post is 404.
    expect(html).not.toContain('/erase');
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1];
    const erase = await fetch(local(link).replace('/unsubscribe/', '/preferences/') + '/erase', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `csrf=${encodeURIComponent(csrf)}&confirm=yes`,
    });
    expect(erase.status).toBe(404);

    const res = await fetch(local(link), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': UA },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(res.status).toBe(200);
    expect((await api('GET', `/v1/contacts/${id}/consents`)).body.email).toBe('withdrawn');
    const last = (await api('GET', `/v1/contacts/${id}/consent-log`)).body.data.at(-1);
    expect(last).toMatchObject({ source: 'one_click_unsubscribe', userAgent: UA, ip: '127.0.0.1' });
    const again = await send({ contactId: id, channel: 'email', category: 'marketing', body: 'x' });
    expect(again).toMatchObject({ status: 'suppressed', reason: 'withdrawn' });
  });

  it('one-click unsubscribe also takes multipart/form-data (fields only)', async () => {
    const id = await contact({ email: `mp-${run}@example.com` });
    await consent(id, 'email', 'granted');
    const url = (await api('POST', `/v1/contacts/${id}/preference-links`)).body.url as string;
    const target = local(url).replace('/preferences/', '/unsubscribe/');
    const withFile = new FormData();
    withFile.append('List-Unsubscribe', 'One-Click');
    withFile.append('f', new Blob(['x']), 'a.txt');
    expect((await fetch(target, { method: 'POST', body: withFile })).status).toBe(400);
    expect((await api('GET', `/v1/contacts/${id}/consents`)).body.email).toBe('granted');
    const form = new FormData();
    form.append('List-Unsubscribe', 'One-Click');
    const res = await fetch(target, { method: 'POST', body: form, headers: { 'user-agent': UA } });
    expect(res.status).toBe(200);
    expect((await api('GET', `/v1/contacts/${id}/consents`)).body.email).toBe('withdrawn');
    const huge = new FormData();
    huge.append('List-Unsubscribe', 'One-Click');
    huge.append('pad', 'x'.repeat(20_000));
    const encoded = new Response(huge);
    const bytes = Buffer.from(await encoded.arrayBuffer());
    const type = encoded.headers.get('content-type') ?? '';
    expect(await statusOfPost(target, bytes, type)).toBe(413);
  });

  it('suppresses with the right reason and check', async () => {
    const withdrawn = await contact({ email: `w-${run}@example.com` });
    const w = await consent(withdrawn, 'email', 'withdrawn');
    const denied = await contact({ email: `d-${run}@example.com` });
    const d = await consent(denied, 'email', 'denied');
    const unknown = await contact({ email: `u-${run}@example.com` });
    const dnc = await contact({ email: `dnc-${run}@example.com` });
    await consent(dnc, 'email', 'granted');
    expect(
      (await api('PUT', `/v1/contacts/${dnc}/do-not-contact`, { enabled: true, reason: 'asked' }))
        .status,
    ).toBe(200);
    const noPhone = await contact({ email: `np-${run}@example.com` });
    await consent(noPhone, 'sms', 'granted');
    const cases: [string, string, string, string, string | null][] = [
      [withdrawn, 'email', 'marketing', 'withdrawn', w.id],
      [withdrawn, 'email', 'transactional', 'withdrawn', w.id],
      [denied, 'email', 'marketing', 'no_consent', d.id],
      [unknown, 'email', 'marketing', 'no_consent', null],
      [dnc, 'email', 'transactional', 'do_not_contact', expect.any(String)],
      [noPhone, 'sms', 'marketing', 'missing_address', expect.any(String)],
    ];
    for (const [contactId, channel, category, reason, consentLogId] of cases) {
      const m = await send({ contactId, channel, category, body: 'x' });
      expect(m).toMatchObject({ status: 'suppressed', reason });
      const stored = await message(m.id);
      expect(stored.checks).toEqual([
        expect.objectContaining({ at: 'accepted', allowed: false, reason, consentLogId }),
      ]);
    }
    // transactional needs only "not withdrawn or denied"
    const tx = await send({
      contactId: unknown,
      channel: 'email',
      category: 'transactional',
      body: 'receipt',
    });
    expect((await settled(tx.id)).status).toBe('sent');
    expect(
      (
        await api('POST', '/v1/messages', {
          contactId: unknown,
          channel: 'fax',
          category: 'marketing',
          body: 'x',
        })
      ).status,
    ).toBe(400);
  });

  it('does not send what was withdrawn after acceptance (checked again before sending)', async () => {
    const id = await contact({ email: `late-${run}@example.com` });
    await consent(id, 'email', 'granted');
    await ll.stopProc(ll.workers[0], 'SIGTERM');
    ll.workers.shift();
    const m = await send({ contactId: id, channel: 'email', category: 'marketing', body: 'late' });
    expect(m.status).toBe('queued');
    const w = await consent(id, 'email', 'withdrawn');
    await ll.startWorker();
    const done = await settled(m.id);
    expect(done).toMatchObject({ status: 'suppressed', reason: 'withdrawn' });
    expect(done.checks.map((c: { at: string; allowed: boolean }) => [c.at, c.allowed])).toEqual([
      ['accepted', true],
      ['sending', false],
    ]);
    expect(done.checks[1].consentLogId).toBe(w.id);
    expect(smtp.byHeader('x-ledgerline-message-id', m.id)).toHaveLength(0);
  });

  it('holds marketing SMS in quiet hours in the contact’s zone, not outside them', async () => {
    const q = quiet;
    if (new Date().getUTCMinutes() === 59) await sleep(61000 - new Date().getUTCSeconds() * 1000);
    const now = new Date();
    const tokyoHour = (now.getUTCHours() + 9) % 24;
    const hh = (h: number) => `${String(h % 24).padStart(2, '0')}:00`;
    const put = await api(
      'PUT',
      '/v1/settings/consent',
      {
        mode: 'standard',
        doubleOptIn: false,
        quietHours: { start: hh(tokyoHour), end: hh(tokyoHour + 1) },
      },
      q.apiKey,
    );
    expect(put.status).toBe(200);
    const tokyo = await contact({ phone: '+81312345678', timeZone: 'Asia/Tokyo' }, q);
    const newYork = await contact({ phone: '+12125550100', timeZone: 'America/New_York' }, q);
    await consent(tokyo, 'sms', 'granted', {}, q);
    await consent(newYork, 'sms', 'granted', {}, q);
    const held = await send(
      { contactId: tokyo, channel: 'sms', category: 'marketing', body: 'Sale' },
      q,
    );
    const nextHour = new Date(now);
    nextHour.setUTCMinutes(0, 0, 0);
    nextHour.setUTCHours(nextHour.getUTCHours() + 1);
    expect(held).toMatchObject({ status: 'scheduled', sendAt: nextHour.toISOString() });
    const free = await send(
      { contactId: newYork, channel: 'sms', category: 'marketing', body: 'Sale' },
      q,
    );
    expect(free.status).toBe('queued');
    const sent = await waitFor('sms sent', async () => {
      const m = await message(free.id, q);
      return m.status === 'sent' && m;
    });
    expect(sent.sentAt).toEqual(expect.any(String));
    const [got] = sms.received.filter((r) => r.idempotencyKey === free.id);
    expect(got.body).toEqual({
      messageId: free.id,
      channel: 'sms',
      to: '+12125550100',
      body: 'Sale',
    });
    // transactional is never held
    const receipt = await send(
      { contactId: tokyo, channel: 'sms', category: 'transactional', body: 'r' },
      q,
    );
    expect(receipt.status).toBe('queued');
  });

  it('gdpr mode: grants need proof; double opt-in mails a single-use confirmation link', async () => {
    const g = gdpr;
    const put = await api(
      'PUT',
      '/v1/settings/consent',
      { mode: 'gdpr', doubleOptIn: false },
      g.apiKey,
    );
    expect(put.body).toMatchObject({ mode: 'gdpr', doubleOptIn: true, timeZone: 'UTC' });
    const id = await contact({ email: `doi-${run}@example.com` }, g);
    const bare = await api(
      'POST',
      `/v1/contacts/${id}/consents`,
      { channel: 'email', status: 'granted', source: 'form' },
      g.apiKey,
    );
    expect(bare.status).toBe(400);
    expect(bare.body.code).toBe('validation_failed');
    const pending = await consent(
      id,
      'email',
      'granted',
      { legalBasis: 'consent', evidence: { text: 'Newsletter', noticeVersion: '2026-01' } },
      g,
    );
    expect(pending.status).toBe('pending_confirmation');
    const held = await send(
      { contactId: id, channel: 'email', category: 'marketing', body: 'x' },
      g,
    );
    expect(held).toMatchObject({ status: 'suppressed', reason: 'pending_confirmation' });
    const mail = await waitFor('confirmation mail', async () =>
      smtp.mails.find((m) => m.to.includes(`doi-${run}@example.com`)),
    );
    const link = new RegExp(`${PUBLIC}/consent/confirm/\\S+`).exec(mail.text)![0];
    // Mailed once, on its first claimed attempt; the claim moved its next attempt ahead.
    const [claimed] = await ll.sql(
      `SELECT attempts, mailed_at IS NOT NULL AS mailed, next_attempt_at > now() AS held
       FROM consent_confirmations WHERE tenant_id = $1 AND contact_id = $2`,
      [g.tenantId, id],
    );
    expect(claimed).toEqual({ attempts: 1, mailed: true, held: true });
    // Following the link (a mail scanner's prefetch too) only shows the page.
    const page = await fetch(local(link), { headers: { 'user-agent': UA } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect((await fetch(local(link))).status).toBe(200);
    expect((await api('GET', `/v1/contacts/${id}/consents`, undefined, g.apiKey)).body.email).toBe(
      'pending_confirmation',
    );
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1];
    // The form comes from PUBLIC_BASE_URL's origin (a proxy rewrote Host to the API's address).
    const post = (body: string, origin = PUBLIC) =>
      fetch(local(link), {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'user-agent': UA,
          origin,
        },
        body,
      });
    expect((await post('csrf=wrong')).status).toBe(403);
    expect((await post(`csrf=${encodeURIComponent(csrf)}`, 'http://evil.test')).status).toBe(403);
    expect((await post(`csrf=${encodeURIComponent(csrf)}`)).status).toBe(200);
    expect((await api('GET', `/v1/contacts/${id}/consents`, undefined, g.apiKey)).body.email).toBe(
      'granted',
    );
    expect((await fetch(local(link))).status).toBe(404);
    expect((await post(`csrf=${encodeURIComponent(csrf)}`)).status).toBe(404);
    expect((await fetch(`${ll.baseUrl}/consent/confirm/forged.token`)).status).toBe(404);
  });

  it('preference centre: renders, records a change with IP and user agent, works without JavaScript', async () => {
    const id = await contact({ email: `pref-${run}@example.com`, phone: '+4930999888' });
    await consent(id, 'email', 'granted');
    const link = await api('POST', `/v1/contacts/${id}/preference-links`);
    expect(link.status).toBe(201);
    expect(link.body.url.startsWith(`${PUBLIC}/preferences/`)).toBe(true);
    expect(Date.parse(link.body.expiresAt)).toBeGreaterThan(Date.now());
    expect((await fetch(`${ll.baseUrl}/preferences/not-a-token`)).status).toBe(404);

    const dir = mkdtempSync(join(tmpdir(), 'll-chromium-'));
    let context: BrowserContext | undefined;
    try {
      context = await chromium.launchPersistentContext(dir, {
        executablePath: '/usr/bin/chromium',
        headless: true,
        javaScriptEnabled: false,
        userAgent: UA,
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-component-update',
          '--no-first-run',
          '--disable-sync',
        ],
      });
      const page = await context.newPage();
      const violations: string[] = [];
      page.on('console', (msg) => {
        if (/Content.Security.Policy|Refused/i.test(msg.text())) violations.push(msg.text());
      });
      const res = await page.goto(local(link.body.url));
      expect(res?.status()).toBe(200);
      await page.getByRole('heading', { name: 'Your communication preferences' }).waitFor();
      expect(await page.getByText('Email: allowed').count()).toBe(1);
      await page.getByLabel('Allow SMS', { exact: true }).check();
      await page.getByLabel('Do not allow Email', { exact: true }).check();
      await page.getByRole('button', { name: 'Save preferences' }).click();
      await page.getByText('Your preferences were saved.').waitFor();
      expect(await page.getByText('SMS: allowed').count()).toBe(1);
      expect(violations).toEqual([]);
    } finally {
      await context?.close();
      rmSync(dir, { recursive: true, force: true });
    }
    expect((await api('GET', `/v1/contacts/${id}/consents`)).body).toMatchObject({
      email: 'withdrawn',
      sms: 'granted',
    });
    const log = (await api('GET', `/v1/contacts/${id}/consent-log`)).body.data;
    const sms = log.find((r: { channel: string }) => r.channel === 'sms');
    expect(sms).toMatchObject({
      source: 'preference_center',
      ip: '127.0.0.1',
      userAgent: UA,
      actor: { type: 'contact', id },
    });
    // A form post without the page's form token, or from another site, is refused.
    const token = link.body.url.split('/').pop();
    const forged = await fetch(`${ll.baseUrl}/preferences/${token}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'sms=withdrawn',
    });
    expect(forged.status).toBe(403);
  });

  it('erasure leaves no trace of the address in a full pg_dump; chains stay valid', async () => {
    const email = `erase.me.${run}@example.org`;
    const id = await contact({ email, phone: '+4915112345678' });
    await consent(id, 'email', 'granted');
    const m = await send({
      contactId: id,
      channel: 'email',
      category: 'transactional',
      subject: `For ${email}`,
      body: `Your address is ${email}`,
    });
    expect((await settled(m.id)).status).toBe('sent');
    const published = await api('POST', '/v1/events', {
      type: 'customer.signed_up',
      subject: `customer/${email}`,
      actor: { type: 'service', id: 'crm' },
      data: { email, plan: 'pro' },
    });
    expect(published.status).toBe(202);
    await waitFor('audited', async () => {
      const [r] = await ll.sql(
        `SELECT count(*)::int AS n FROM audit_entries WHERE tenant_id = $1 AND event_id = $2`,
        [t.tenantId, published.body.id],
      );
      return r.n === 1;
    });
    const writer = await api('POST', '/v1/api-keys', {
      name: 'writer',
      scopes: ['contacts:write'],
    });
    expect(writer.status).toBe(201);
    expect((await api('POST', `/v1/contacts/${id}/erase`, undefined, writer.body.key)).status).toBe(
      403,
    );
    const erased = await api('POST', `/v1/contacts/${id}/erase`);
    expect(erased.status).toBe(200);
    expect(erased.body).toMatchObject({ id, erased: true });
    const dump = execFileSync('pg_dump', ['--data-only', ll.dbUrl], {
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
    });
    expect(dump.includes(email)).toBe(false);
    expect(dump.toLowerCase().includes(email.toLowerCase())).toBe(false);
    expect(dump.includes('+4915112345678')).toBe(false);
    const verify = await api('GET', '/v1/audit/verify');
    expect(verify.body.ok).toBe(true);
    const [erasure] = await ll.sql(
      `SELECT data FROM events WHERE tenant_id = $1 AND type = 'consent.contact.erased'`,
      [t.tenantId],
    );
    expect(erasure.data).toMatchObject({ contactId: id, source: 'api' });
    expect((await api('GET', `/v1/contacts/${id}`)).body).toMatchObject({
      email: null,
      erased: true,
    });
    expect(
      (await send({ contactId: id, channel: 'email', category: 'transactional', body: 'x' }))
        .status,
    ).toBe('suppressed');
  });

  it('erasure replaces whole values only: externalId "123" leaves 12345 and other text alone', async () => {
    const id = await contact({ externalId: '123', phone: '+49 151 7654 3210' });
    const publish = (data: Record<string, unknown>, subject: string) =>
      api('POST', '/v1/events', {
        type: 'order.placed',
        subject,
        actor: { type: 'service', id: 'shop' },
        data,
      }).then((r) => {
        expect(r.status).toBe(202);
        return r.body.id as string;
      });
    const mine = await publish(
      { customer: '123', phone: '+4915176543210', total: 123 },
      'customer/123',
    );
    const theirs = await publish(
      { amount: 12345, ref: 'order-1234', note: 'x 123 y' },
      'order/1234',
    );
    const erased = await api('POST', `/v1/contacts/${id}/erase`);
    expect(erased.status).toBe(200);
    const rows = await ll.sql(
      `SELECT id, subject, data FROM events WHERE tenant_id = $1 AND id = ANY($2::uuid[])`,
      [t.tenantId, [mine, theirs]],
    );
    const byId = Object.fromEntries(rows.map((r: any) => [r.id, r]));
    expect(byId[mine]).toMatchObject({
      subject: 'customer/[erased]',
      data: { customer: '[erased]', phone: '[erased]', total: 123 },
    });
    expect(byId[theirs]).toMatchObject({
      subject: 'order/1234',
      data: { amount: 12345, ref: 'order-1234', note: 'x 123 y' },
    });
  });

  it('refuses a message whose contact is erased while it is accepted; keeps no suppressed body', async () => {
    const email = `race.${run}@example.org`;
    const id = await contact({ email });
    await consent(id, 'email', 'granted');
    const refused = await send({ contactId: id, channel: 'sms', category: 'marketing', body: 'b' });
    expect(refused.status).toBe('suppressed');
    const [kept] = await ll.sql(`SELECT body FROM messages WHERE tenant_id = $1 AND id = $2`, [
      t.tenantId,
      refused.id,
    ]);
    expect(kept.body).toBeNull();
    // An erasure under way holds the contact's row: the message passes the gate's first read,
    // then waits for that row inside its insert and finds the contact erased.
    const eraser = new Client({ connectionString: ll.dbUrl });
    await eraser.connect();
    try {
      await eraser.query('BEGIN');
      await eraser.query(`SELECT 1 FROM contacts WHERE tenant_id = $1 AND id = $2 FOR UPDATE`, [
        t.tenantId,
        id,
      ]);
      const pending = send({
        contactId: id,
        channel: 'email',
        category: 'transactional',
        subject: 'Hi',
        body: `Mail for ${email}`,
      });
      await sleep(300);
      await eraser.query(
        `UPDATE contacts SET email = NULL, erased_at = now() WHERE tenant_id = $1 AND id = $2`,
        [t.tenantId, id],
      );
      await eraser.query('COMMIT');
      const m = await pending;
      expect(m).toMatchObject({ status: 'suppressed', reason: 'no_consent' });
      const [row] = await ll.sql(
        `SELECT subject, body FROM messages WHERE tenant_id = $1 AND id = $2`,
        [t.tenantId, m.id],
      );
      expect(row).toEqual({ subject: null, body: null });
    } finally {
      await eraser.end();
    }
  });

  it('fails closed when the gate cannot read consent', async () => {
    const id = await contact({ email: `closed-${run}@example.com` });
    await consent(id, 'email', 'granted');
    // The runtime role loses SELECT on the consent log: every gate read now errors.
    await ll.sql(`REVOKE SELECT ON consent_log FROM ${RUNTIME_ROLE}`);
    try {
      const m = await send({
        contactId: id,
        channel: 'email',
        category: 'transactional',
        body: 'x',
      });
      expect(m).toMatchObject({ status: 'suppressed', reason: 'no_consent' });
      expect((await message(m.id)).checks).toEqual([
        expect.objectContaining({ at: 'accepted', allowed: false, consentLogId: null }),
      ]);
    } finally {
      await ll.sql(`GRANT SELECT ON consent_log TO ${RUNTIME_ROLE}`);
    }
    const ok = await send({
      contactId: id,
      channel: 'email',
      category: 'transactional',
      body: 'x',
    });
    expect(ok.status).toBe('queued');
  });

  it('runs approved message.send AI actions through the same gate', async () => {
    const ok = await contact({ email: `ai-${run}@example.com` });
    await consent(ok, 'email', 'granted');
    const refused = await contact({ email: `ai-no-${run}@example.com` });
    const submit = (contactId: string) =>
      api('POST', '/v1/ai-actions', {
        type: 'message.send',
        initiator: 'user',
        requestedBy: 'u_1',
        agent: { id: 'writer' },
        input: { contactId, channel: 'email', category: 'marketing', subject: 'Hi', body: 'Offer' },
      });
    const [a, b] = await Promise.all([submit(ok), submit(refused)]);
    expect([a.body.status, b.body.status]).toEqual(['auto_approved', 'auto_approved']);
    const outcome = (id: string) =>
      waitFor(`action ${id} executed`, async () => {
        const r = await api('GET', `/v1/ai-actions/${id}`);
        return ['succeeded', 'failed'].includes(r.body.status) && r.body;
      });
    const done = await outcome(a.body.id);
    expect(done).toMatchObject({ status: 'succeeded', output: { messageId: a.body.id } });
    expect((await settled(a.body.id)).status).toBe('sent');
    expect(smtp.byHeader('x-ledgerline-message-id', a.body.id)).toHaveLength(1);
    const failed = await outcome(b.body.id);
    expect(failed).toMatchObject({
      status: 'failed',
      output: { messageId: b.body.id, status: 'suppressed', reason: 'no_consent' },
    });
  });

  it('audits consent changes, sends and suppressions in main without addresses', async () => {
    const types = await ll.sql<{ type: string }>(
      `SELECT DISTINCT type FROM audit_entries WHERE tenant_id = $1 AND chain = 'main'
       AND (type LIKE 'consent.%' OR type LIKE 'messaging.%')`,
      [t.tenantId],
    );
    expect(types.map((r) => r.type)).toEqual(
      expect.arrayContaining([
        'consent.granted',
        'consent.withdrawn',
        'messaging.message.sent',
        'messaging.message.suppressed',
        'messaging.contact.created',
      ]),
    );
    const reserved = await api('POST', '/v1/events', {
      type: 'consent.granted',
      actor: { type: 'service', id: 'x' },
      data: {},
    });
    expect(reserved.status).toBe(422);
    const put = await api('PUT', '/v1/settings/retention', { messagesDays: 30, eventsDays: 365 });
    expect(put.body).toEqual({ messagesDays: 30, eventsDays: 365 });
    expect((await api('GET', '/v1/settings/retention')).body).toEqual(put.body);
  });
});

/**
 * The status of a POST whose body the server may refuse before it has read it all: the server
 * answers 413 and closes, so the client's write can fail (EPIPE) after the answer arrived.
 */
function statusOfPost(url: string, body: Buffer, contentType: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, {
      method: 'POST',
      headers: { 'content-type': contentType, 'content-length': body.length },
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE' && err.code !== 'ECONNRESET') reject(err);
    });
    req.on('close', () => reject(new Error('closed without an answer')));
    req.end(body);
  });
}
