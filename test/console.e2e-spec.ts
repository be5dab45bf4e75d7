/// <reference lib="dom" />
import { Browser, Page } from 'playwright-core';
import { Ledgerline, Tenant } from './support/ledgerline';
import { WebhookReceiver } from './support/webhook-receiver';
import { Person, seedUser } from './support/console-session';
import {
  DESKTOP,
  launchChromium,
  openPage,
  PHONE,
  screenshot,
  seriousViolations,
} from './support/browser';

/**
 * The approvers' console in headless Chromium (SPEC 8): one Ledgerline and one browser for the
 * file; each test its own browser context (its own cookies).
 */
describe('console in the browser', () => {
  let ll: Ledgerline;
  let t: Tenant;
  let browser: Browser;
  let receiver: WebhookReceiver;
  let alice: Person;
  let bob: Person;
  let viewer: Person;
  let agentKey: string;

  // Two processes, a browser and a receiver on a shared 2-core machine: allow for a slow start.
  beforeAll(async () => {
    [ll, browser, receiver] = await Promise.all([
      Ledgerline.start({
        env: { WEBHOOK_ALLOW_HTTP: 'true', WEBHOOK_ALLOWED_CIDRS: '127.0.0.1/32' },
      }),
      launchChromium(),
      WebhookReceiver.start(),
    ]);
    t = await ll.createTenant('console');
    [alice, bob, viewer] = await Promise.all([
      seedUser(ll, t.tenantId, 'approver'),
      seedUser(ll, t.tenantId, 'approver'),
      seedUser(ll, t.tenantId, 'viewer'),
    ]);
    agentKey = (
      await ll.request('POST', '/v1/api-keys', {
        key: t.apiKey,
        body: { name: 'agent', scopes: ['ai-actions:submit'] },
      })
    ).body.key;
    await ll.request('PUT', '/v1/ai-policies/crm.note.add', {
      key: t.apiKey,
      body: { risk: 'medium' },
    });
    await ll.request('POST', '/v1/webhooks/endpoints', {
      key: t.apiKey,
      body: { url: receiver.url('/hook'), eventTypes: ['ai_action.approved'] },
    });
  }, 240000);
  afterAll(async () => {
    await browser?.close();
    await receiver?.close();
    await ll?.stop();
  });

  const submit = async (type: string, input: Record<string, unknown> = { note: 'hello' }) => {
    const res = await ll.request('POST', '/v1/ai-actions', {
      key: agentKey,
      body: {
        type,
        initiator: 'autonomous',
        agent: { id: 'crm-bot', model: 'm1' },
        input,
        rationale: 'the customer asked',
      },
    });
    expect(res.status).toBe(201);
    return res.body as { id: string; inputHash: string; status: string };
  };

  async function signIn(page: Page, who: Person): Promise<void> {
    await page.goto(`${ll.baseUrl}/console/login`);
    await page.getByLabel('Email').fill(who.email);
    await page.getByLabel('Password').fill(who.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/console$/);
  }

  const statusText = (page: Page) => page.locator('#action-status').textContent();

  it('sign-in page: labelled fields, no serious axe violation, strict CSP and security headers', async () => {
    const { context, page, cspViolations } = await openPage(browser);
    const res = await page.goto(`${ll.baseUrl}/console/login`);
    const h = res!.headers();
    expect(h['content-security-policy']).toContain("script-src 'self'");
    expect(h['content-security-policy']).not.toContain('unsafe-inline');
    expect(h['x-frame-options']).toBe('DENY');
    expect(h['x-content-type-options']).toBe('nosniff');
    expect(h['strict-transport-security']).toContain('max-age=');
    expect(h['referrer-policy']).toBeDefined();
    await expect(page.getByLabel('Email').isVisible()).resolves.toBe(true);
    await expect(page.getByLabel('Password').isVisible()).resolves.toBe(true);
    await expect(page.getByRole('button', { name: 'Sign in' }).isVisible()).resolves.toBe(true);
    expect(await seriousViolations(page)).toEqual([]);
    // Not signed in: the console sends the browser to sign in, and back afterwards.
    await page.goto(`${ll.baseUrl}/console`);
    expect(page.url()).toContain('/console/login?next=%2Fconsole');
    expect(cspViolations).toEqual([]);
    await context.close();
  });

  it('an approver sees a new action appear live, approves it, it leaves the queue and ai_action.approved is delivered', async () => {
    const { context, page, cspViolations } = await openPage(browser);
    await signIn(page, alice);
    expect(await seriousViolations(page)).toEqual([]);
    let navigations = 0;
    page.on('framenavigated', (f) => {
      if (f === page.mainFrame()) navigations++;
    });
    const action = await submit('crm.note.add');
    const link = page.getByRole('link', { name: 'crm.note.add' });
    const started = Date.now();
    await link.first().waitFor({ timeout: 5000 });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(navigations).toBe(0);
    const rows = page.locator('table tbody tr');
    expect(await rows.count()).toBe(1);
    await screenshot(page, 'console-queue-1280x800');
    await page.setViewportSize(PHONE);
    await screenshot(page, 'console-queue-390x844');
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
      PHONE.width,
    );
    await page.setViewportSize(DESKTOP);

    await link.first().click();
    await page.waitForURL(new RegExp(`/console/actions/${action.id}$`));
    expect(await statusText(page)).toBe('pending_approval');
    await expect(page.locator('#input-hash').textContent()).resolves.toBe(action.inputHash);
    await expect(page.locator('pre').textContent()).resolves.toContain('"note": "hello"');
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, 'console-action-1280x800');
    await page.setViewportSize(PHONE);
    await screenshot(page, 'console-action-390x844');
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
      PHONE.width,
    );
    await page.setViewportSize(DESKTOP);

    await page.getByLabel('Reason').fill('looks right');
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.waitForURL(/decided=approve/);
    expect(await statusText(page)).toBe('approved');
    await page.getByRole('link', { name: 'Queue', exact: true }).click();
    await page.waitForURL(/\/console$/);
    expect(await page.getByRole('link', { name: 'crm.note.add' }).count()).toBe(0);

    const [hook] = await receiver.waitForCount(1, '/hook', 15000);
    const event = JSON.parse(hook.body);
    expect(event.type).toBe('ai_action.approved');
    expect(event.data.data.actionId).toBe(action.id);
    expect(event.data.data.receipt.approvers).toEqual([{ type: 'user', id: alice.userId }]);
    expect(cspViolations).toEqual([]);
    await context.close();
  });

  it('a high-risk action needs a second approver: the quorum is shown and completed by another person', async () => {
    const action = await submit('crm.account.delete');
    const first = await openPage(browser);
    await signIn(first.page, alice);
    await first.page.goto(`${ll.baseUrl}/console/actions/${action.id}`);
    await expect(first.page.getByText('0 of 2 approvals').isVisible()).resolves.toBe(true);
    await first.page.getByLabel('Reason').fill('first look');
    await first.page.getByRole('button', { name: 'Approve' }).click();
    await first.page.waitForURL(/decided=approve/);
    expect(await statusText(first.page)).toBe('pending_approval');
    await expect(first.page.getByText('1 of 2 approvals').isVisible()).resolves.toBe(true);
    // The same person cannot count twice: no decision form for them any more.
    expect(await first.page.getByRole('button', { name: 'Approve' }).count()).toBe(0);

    const second = await openPage(browser);
    await signIn(second.page, bob);
    await second.page.goto(`${ll.baseUrl}/console/actions/${action.id}`);
    await second.page.getByLabel('Reason').fill('second look');
    await second.page.getByRole('button', { name: 'Approve' }).click();
    await second.page.waitForURL(/decided=approve/);
    expect(await statusText(second.page)).toBe('approved');
    const done = await ll.request('GET', `/v1/ai-actions/${action.id}`, { key: t.apiKey });
    expect(done.body.receipt.approvers).toEqual([
      { type: 'user', id: alice.userId },
      { type: 'user', id: bob.userId },
    ]);
    await first.context.close();
    await second.context.close();
  });

  it('a revised action is shown again, not approved blind', async () => {
    const action = await submit('crm.note.add', { note: 'first draft' });
    const { context, page } = await openPage(browser);
    await signIn(page, alice);
    await page.goto(`${ll.baseUrl}/console/actions/${action.id}`);
    const revised = await ll.request('PUT', `/v1/ai-actions/${action.id}/input`, {
      key: agentKey,
      body: { input: { note: 'second draft, quite different' } },
    });
    expect(revised.status).toBe(200);
    await page.getByLabel('Reason').fill('fine');
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.getByText('This action was revised since you opened it').waitFor();
    expect(await statusText(page)).toBe('pending_approval');
    await expect(page.locator('pre').textContent()).resolves.toContain('second draft');
    await expect(page.locator('#input-hash').textContent()).resolves.toBe(revised.body.inputHash);
    const still = await ll.request('GET', `/v1/ai-actions/${action.id}`, { key: t.apiKey });
    expect(still.body.status).toBe('pending_approval');
    expect(still.body.approvals).toEqual([]);
    // Deciding on what is now shown works.
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.waitForURL(/decided=approve/);
    expect(await statusText(page)).toBe('approved');
    await context.close();
  });

  it('a viewer sees the queue but no Approve or Reject, and a forged decision is refused', async () => {
    const action = await submit('crm.note.add', { note: 'for the viewer' });
    const { context, page } = await openPage(browser);
    await signIn(page, viewer);
    await page.getByRole('link', { name: 'crm.note.add' }).first().waitFor();
    await page.goto(`${ll.baseUrl}/console/actions/${action.id}`);
    expect(await statusText(page)).toBe('pending_approval');
    expect(await page.getByRole('button', { name: 'Approve' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Reject' }).count()).toBe(0);
    const csrf = await page.locator('input[name="_csrf"]').first().inputValue();
    const forged = await page.request.post(`${ll.baseUrl}/console/actions/${action.id}/decision`, {
      form: { _csrf: csrf, decision: 'approve', reason: 'x', inputHash: action.inputHash },
      maxRedirects: 0,
    });
    expect(forged.status()).toBe(403);
    const api = await page.request.post(`${ll.baseUrl}/v1/ai-actions/${action.id}/decisions`, {
      headers: { 'x-csrf-token': csrf },
      data: { decision: 'approve', reason: 'x', inputHash: action.inputHash },
    });
    expect(api.status()).toBe(403);
    const still = await ll.request('GET', `/v1/ai-actions/${action.id}`, { key: t.apiKey });
    expect(still.body.approvals).toEqual([]);
    await context.close();
  });

  it('refuses a console change without the CSRF token', async () => {
    const action = await submit('crm.note.add', { note: 'csrf' });
    const { context, page } = await openPage(browser);
    await signIn(page, alice);
    const res = await page.request.post(`${ll.baseUrl}/console/actions/${action.id}/decision`, {
      form: { decision: 'approve', reason: 'x', inputHash: action.inputHash },
      maxRedirects: 0,
    });
    expect(res.status()).toBe(403);
    const still = await ll.request('GET', `/v1/ai-actions/${action.id}`, { key: t.apiKey });
    expect(still.body.status).toBe('pending_approval');
    await context.close();
  });

  it('locks the account after five failed sign-ins, then refuses even the right password', async () => {
    const member = await seedUser(ll, t.tenantId, 'member');
    const { context, page } = await openPage(browser);
    for (let i = 0; i < 5; i++) {
      await page.goto(`${ll.baseUrl}/console/login`);
      await page.getByLabel('Email').fill(member.email);
      await page.getByLabel('Password').fill('wrong-password-123');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL(/error=/);
    }
    await expect(page.getByText('locked').isVisible()).resolves.toBe(true);
    await page.getByLabel('Email').fill(member.email);
    await page.getByLabel('Password').fill(member.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/error=locked/);
    await context.close();
  });

  it('the whole approve flow works from the keyboard alone', async () => {
    const action = await submit('crm.note.add', { note: 'keyboard' });
    const { context, page } = await openPage(browser);
    const kb = page.keyboard;
    await page.goto(`${ll.baseUrl}/console/login`);
    // The Email field has focus on arrival (autofocus may land just after "load" on a busy
    // machine: typing before it did lost the first characters).
    const email = await page.getByLabel('Email').elementHandle();
    await page.waitForFunction((el) => document.activeElement === el, email);
    await kb.type(alice.email);
    await kb.press('Tab');
    await kb.type(alice.password);
    await kb.press('Tab');
    await kb.press('Enter');
    await page.waitForURL(/\/console$/);
    const focusedHref = () =>
      page.evaluate(() =>
        (document.activeElement as HTMLAnchorElement | null)?.getAttribute('href'),
      );
    let found = false;
    for (let i = 0; i < 40 && !found; i++) {
      await kb.press('Tab');
      found = (await focusedHref()) === `/console/actions/${action.id}`;
    }
    expect(found).toBe(true);
    await kb.press('Enter');
    await page.waitForURL(new RegExp(`/console/actions/${action.id}$`));
    const focusedName = () =>
      page.evaluate(() => {
        const el = document.activeElement as HTMLElement | null;
        return el ? `${el.tagName}:${el.id || el.textContent?.trim()}` : '';
      });
    let onReason = false;
    for (let i = 0; i < 40 && !onReason; i++) {
      await kb.press('Tab');
      onReason = (await focusedName()) === 'TEXTAREA:reason';
    }
    expect(onReason).toBe(true);
    await kb.type('checked by keyboard');
    await kb.press('Tab');
    expect(await focusedName()).toBe('BUTTON:Approve');
    await kb.press('Enter');
    await page.waitForURL(/decided=approve/);
    expect(await statusText(page)).toBe('approved');
    // Sign out by keyboard too: the button is reachable and ends the session.
    let onSignOut = false;
    await page.locator('body').focus();
    for (let i = 0; i < 40 && !onSignOut; i++) {
      await kb.press('Tab');
      onSignOut = (await focusedName()) === 'BUTTON:Sign out';
    }
    expect(onSignOut).toBe(true);
    await kb.press('Enter');
    await page.waitForURL(/\/console\/login/);
    await page.goto(`${ll.baseUrl}/console`);
    expect(page.url()).toContain('/console/login');
    await context.close();
  });

  it('an owner checks the audit chain and works the webhook endpoints', async () => {
    const owner = await seedUser(ll, t.tenantId, 'owner');
    const { context, page, cspViolations } = await openPage(browser);
    await signIn(page, owner);
    await page.getByRole('link', { name: 'Audit', exact: true }).click();
    await page.waitForURL(/\/console\/audit/);
    const head = await page.locator('dl.facts dd').first().textContent();
    expect(head?.replace(/\s+/g, ' ')).toMatch(/seq \d+, hash [0-9a-f]{64}/);
    await page.getByRole('button', { name: 'Verify the main chain' }).click();
    await page.getByText(/Intact: all \d+ entries/).waitFor();
    await page.getByLabel('Event type').fill('console.login');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/type=console.login/);
    const types = await page.locator('table tbody tr td:nth-child(2)').allTextContents();
    expect(types.length).toBeGreaterThan(0);
    expect(new Set(types)).toEqual(new Set(['console.login']));
    // Sign-ins are audited without the email.
    expect(await page.locator('table').textContent()).not.toContain(owner.email);

    await page.getByRole('link', { name: 'Webhooks', exact: true }).click();
    await page.getByRole('link', { name: receiver.url('/hook') }).click();
    await expect(page.locator('#endpoint-status').textContent()).resolves.toBe('enabled');
    const deliveries = page.locator('table tbody tr');
    expect(await deliveries.count()).toBeGreaterThan(0);
    await expect(deliveries.first().textContent()).resolves.toContain('ai_action.approved');
    await page.getByRole('button', { name: 'Recover' }).click();
    await page.getByText(/Recovery started: \d+ deliveries queued/).waitFor();
    expect(cspViolations).toEqual([]);
    await context.close();
  });
});
