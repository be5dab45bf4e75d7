import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Ledgerline, freePort, waitFor } from './support/ledgerline';

/** CI runs examples/agent-executor against a real Ledgerline, as a team would copy it. */
describe('examples/agent-executor', () => {
  let ll: Ledgerline;
  beforeAll(async () => {
    ll = await Ledgerline.start({
      env: { WEBHOOK_ALLOW_HTTP: 'true', WEBHOOK_ALLOWED_CIDRS: '127.0.0.1/32' },
    });
  });
  afterAll(() => ll?.stop());

  it('submits, waits for the approval webhook, verifies signature and receipt, executes, reports', async () => {
    const t = await ll.createTenant('example');
    const key = async (scopes: string[]) =>
      (await ll.request('POST', '/v1/api-keys', { key: t.apiKey, body: { name: 'k', scopes } }))
        .body.key as string;
    const [agentKey, approver] = [
      await key(['ai-actions:submit']),
      await key(['ai-actions:decide']),
    ];
    await ll.request('PUT', '/v1/ai-policies/crm.note.add', {
      key: t.apiKey,
      body: { risk: 'medium' },
    });
    const port = await freePort();
    const ep = await ll.request('POST', '/v1/webhooks/endpoints', {
      key: t.apiKey,
      body: { url: `http://127.0.0.1:${port}/`, eventTypes: ['ai_action.*'] },
    });
    const out: string[] = [];
    const child = spawn(
      process.execPath,
      [join(__dirname, '../examples/agent-executor/agent-executor.js')],
      {
        env: {
          PATH: process.env.PATH,
          LEDGERLINE_URL: ll.baseUrl,
          LEDGERLINE_API_KEY: agentKey,
          WEBHOOK_SECRET: ep.body.secret,
          PORT: String(port),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child.stdout.on('data', (b: Buffer) => out.push(b.toString()));
    child.stderr.on('data', (b: Buffer) => out.push(b.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    const pending = await waitFor('the example submitted', async () => {
      const r = await ll.request('GET', '/v1/ai-actions?status=pending_approval', {
        key: approver,
      });
      return r.body.data[0];
    });
    expect(pending.agent.id).toBe('example-agent');
    const d = await ll.request('POST', `/v1/ai-actions/${pending.id}/decisions`, {
      key: approver,
      body: { decision: 'approve', reason: 'fine', inputHash: pending.inputHash },
    });
    expect(d.body.status).toBe('approved');
    expect(await exited).toBe(0);
    const done = await ll.request('GET', `/v1/ai-actions/${pending.id}`, { key: approver });
    expect(done.body.status).toBe('succeeded');
    expect(done.body.output.noteId).toMatch(/^note_/);
    expect(out.join('')).toContain('"step":"reported"');
  });
});
