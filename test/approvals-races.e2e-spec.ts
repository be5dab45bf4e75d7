import { Ledgerline, Tenant, sleep, waitFor } from './support/ledgerline';

const ROUNDS = 50;

/** Races on one action, fired together against two API processes: one winner every time. */
describe('AI-action races', () => {
  let ll: Ledgerline;
  let t: Tenant;
  let submitter: string;
  let approvers: string[];
  let bases: string[];

  const req = (method: string, path: string, key: string, body?: unknown, i = 0) =>
    ll.request(method, path, { key, body, base: bases[i % bases.length] });

  async function key(scopes: string[]): Promise<string> {
    return (await req('POST', '/v1/api-keys', t.apiKey, { name: 'k', scopes })).body.key;
  }

  async function submit(over: Record<string, unknown> = {}) {
    const res = await req('POST', '/v1/ai-actions', submitter, {
      type: 'race.medium',
      initiator: 'autonomous',
      agent: { id: 'racer' },
      input: { n: 1 },
      ...over,
    });
    expect(res.status).toBe(201);
    return res.body;
  }

  const finals = (history: { kind: string }[]) =>
    history.filter((h) => ['approved', 'rejected', 'expired', 'revised'].includes(h.kind));

  beforeAll(async () => {
    ll = await Ledgerline.start({ apis: 2 });
    bases = ll.apis.map((a) => `http://127.0.0.1:${a.port}`);
    t = await ll.createTenant('races');
    submitter = await key(['ai-actions:submit']);
    approvers = [await key(['ai-actions:decide']), await key(['ai-actions:decide'])];
    await req('PUT', '/v1/ai-policies/race.medium', t.apiKey, { risk: 'medium' });
  });
  afterAll(() => ll?.stop());

  it('two approvers deciding one action: one decision counts, the other is not_pending', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const a = await submit();
      const answers = await Promise.all(
        approvers.map((k, i) =>
          req(
            'POST',
            `/v1/ai-actions/${a.id}/decisions`,
            k,
            {
              decision: i === round % 2 ? 'approve' : 'reject',
              reason: 'race',
            },
            i,
          ),
        ),
      );
      expect(answers.map((r) => r.status).sort()).toEqual([200, 409]);
      expect(answers.find((r) => r.status === 409)!.body.code).toBe('not_pending');
      const detail = (await req('GET', `/v1/ai-actions/${a.id}`, submitter)).body;
      expect(finals(detail.history)).toHaveLength(1);
      // Two services reporting the outcome at once: it executes (closes) once.
      if (detail.status === 'approved') {
        const outcomes = await Promise.all(
          [0, 1].map((i) =>
            req(
              'POST',
              `/v1/ai-actions/${a.id}/outcome`,
              submitter,
              { status: 'succeeded', output: { i } },
              i,
            ),
          ),
        );
        expect(outcomes.map((r) => r.status).sort()).toEqual([200, 409]);
        const closed = (await req('GET', `/v1/ai-actions/${a.id}`, submitter)).body.history;
        expect(closed.filter((h: { kind: string }) => h.kind === 'executing')).toHaveLength(1);
        expect(closed.filter((h: { kind: string }) => h.kind === 'succeeded')).toHaveLength(1);
      }
    }
  });

  it('a revision racing a decision: exactly one of them wins', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const a = await submit();
      const [rev, dec] = await Promise.all([
        req('PUT', `/v1/ai-actions/${a.id}/input`, submitter, { input: { n: round + 2 } }, round),
        req(
          'POST',
          `/v1/ai-actions/${a.id}/decisions`,
          approvers[0],
          {
            decision: 'approve',
            inputHash: a.inputHash,
          },
          round + 1,
        ),
      ]);
      const won = [rev.status, dec.status].filter((s) => s === 200);
      expect(won).toHaveLength(1);
      const detail = (await req('GET', `/v1/ai-actions/${a.id}`, submitter)).body;
      if (dec.status === 200) {
        expect([detail.status, rev.body.code]).toEqual(['approved', 'not_pending']);
        expect(detail.receipt.inputHash).toBe(a.inputHash);
      } else {
        expect([detail.status, dec.body.code]).toEqual(['pending_approval', 'input_changed']);
        expect(detail.inputHash).not.toBe(a.inputHash);
      }
    }
  });

  it('a decision racing the expiry: approved or expired, never both', async () => {
    const actions = await Promise.all(
      Array.from({ length: ROUNDS }, () => submit({ expiresInSeconds: 2 })),
    );
    const deadline = Math.max(...actions.map((a) => Date.parse(a.expiresAt)));
    await sleep(Math.max(0, deadline - Date.now() - 300));
    // Decisions spread over the moments around the deadline, while the expiry job and sweeper run.
    const answers = await Promise.all(
      actions.map(async (a, i) => {
        await sleep((i % 10) * 150);
        return req(
          'POST',
          `/v1/ai-actions/${a.id}/decisions`,
          approvers[i % 2],
          { decision: 'approve' },
          i,
        );
      }),
    );
    const states = await waitFor(
      'every action final',
      async () => {
        const all = await Promise.all(
          actions.map((a) => req('GET', `/v1/ai-actions/${a.id}`, submitter)),
        );
        return all.every((r) => ['approved', 'expired'].includes(r.body.status)) ? all : null;
      },
      20000,
    );
    states.forEach((s, i) => {
      expect(finals(s.body.history)).toHaveLength(1);
      expect(s.body.status).toBe(answers[i].status === 200 ? 'approved' : 'expired');
      if (answers[i].status !== 200) expect(answers[i].body.code).toBe('not_pending');
    });
    const expired = states.filter((s) => s.body.status === 'expired').length;
    process.stdout.write(`decision vs expiry: ${ROUNDS - expired} approved, ${expired} expired\n`);
  });
});
