import {
  AiActionExecutor,
  AiActionService,
  AiPolicyRepository,
  AiPolicyService,
  ApprovalsModule,
  ExecutionRequest,
  ExecutionResult,
  ExecutorRegistry,
  ExecutorRunner,
} from '@app/approvals';
import { MediumApp } from './support/medium-app';
import { factories } from './support/factories';

const TYPE = 'test.run';

/** An in-process executor that records every call and answers what the test tells it to. */
class RecordingExecutor implements AiActionExecutor {
  readonly type = TYPE;
  calls: ExecutionRequest[] = [];
  answer: (req: ExecutionRequest) => Promise<ExecutionResult> = async (req) => ({
    status: 'succeeded',
    output: { ran: req.input },
    usage: { ms: 1 },
  });

  async execute(req: ExecutionRequest): Promise<ExecutionResult> {
    this.calls.push(req);
    // Yields, so two runners racing for one action overlap here.
    await new Promise((r) => setTimeout(r, 20));
    return this.answer(req);
  }
}

describe('approvals (medium: executor registry and ExecutorRunner on real PostgreSQL)', () => {
  let m: MediumApp;
  let make: ReturnType<typeof factories>;
  const executor = new RecordingExecutor();

  beforeAll(async () => {
    m = await MediumApp.start([ApprovalsModule]);
    make = factories(m);
    m.get(ExecutorRegistry).register(executor);
  });
  afterAll(() => m?.stop());
  beforeEach(() => {
    executor.calls = [];
  });

  /** A tenant with a medium-risk policy for the test type, and a pending action of that type. */
  async function pendingAction(expiresInSeconds?: number) {
    const tenant = await make.tenant();
    await make.aiPolicy(tenant, TYPE, { risk: 'medium' });
    const action = await make.aiAction(tenant, {
      type: TYPE,
      input: { to: 'c_1', n: 7 },
      expiresInSeconds,
    });
    expect(action.status).toBe('pending_approval');
    const approver = await make.approver(tenant);
    return { tenant, action, approver, ref: { tenantId: tenant.tenantId, id: action.id } };
  }

  const approve = (auth: Awaited<ReturnType<typeof pendingAction>>['approver'], id: string) =>
    m.get(AiActionService).decide(auth, id, { decision: 'approve', reason: 'fine' });

  const kinds = async (tenantId: string, id: string) =>
    (await m.get(AiActionService).get(tenantId, id)).history.map((h) => h.kind);

  it('finds the registered executor by type and nothing for other types', () => {
    const registry = m.get(ExecutorRegistry);
    expect(registry.find(TYPE)).toBe(executor);
    expect(registry.find('crm.update')).toBeUndefined();
    expect(registry.types()).toContain(TYPE);
    expect(() => registry.register(new RecordingExecutor())).toThrow(/two executors/);
  });

  it('executes an approved action once, with the approved input, and records its outcome', async () => {
    const { action, approver, ref } = await pendingAction();
    const runner = m.get(ExecutorRunner);
    expect(await runner.run(ref)).toBe('nothing'); // still pending: nothing runs
    expect(executor.calls).toHaveLength(0);
    const approved = await approve(approver, action.id);
    expect(approved.status).toBe('approved');

    expect(await runner.run(ref)).toBe('executed');
    expect(await runner.run(ref)).toBe('nothing');
    expect(executor.calls).toEqual([
      {
        tenantId: ref.tenantId,
        actionId: action.id,
        type: TYPE,
        input: { to: 'c_1', n: 7 },
        inputHash: action.inputHash,
      },
    ]);
    const done = await m.get(AiActionService).get(ref.tenantId, action.id);
    expect(done.status).toBe('succeeded');
    expect(done.output).toEqual({ ran: { to: 'c_1', n: 7 } });
    expect(done.usage).toEqual({ ms: 1 });
    expect(await kinds(ref.tenantId, action.id)).toEqual([
      'submitted',
      'approved',
      'executing',
      'succeeded',
    ]);
  });

  it('executes once when two runners race for the same approved action', async () => {
    for (let round = 0; round < 5; round++) {
      executor.calls = [];
      const { action, approver, ref } = await pendingAction();
      await approve(approver, action.id);
      const runner = m.get(ExecutorRunner);
      const results = await Promise.all([runner.run(ref), runner.run(ref), runner.run(ref)]);
      expect(results.filter((r) => r === 'executed')).toHaveLength(1);
      expect(executor.calls.map((c) => c.actionId)).toEqual([action.id]);
      expect((await kinds(ref.tenantId, action.id)).filter((k) => k === 'executing')).toHaveLength(
        1,
      );
    }
  });

  it('runs nothing while the tenant is paused, and the action stays approved', async () => {
    const { tenant, action, approver, ref } = await pendingAction();
    await approve(approver, action.id);
    const settings = m.get(AiPolicyService);
    await settings.putSettings(tenant.auth, { paused: true, reason: 'incident' });
    expect(await m.get(ExecutorRunner).run(ref)).toBe('paused');
    expect(executor.calls).toHaveLength(0);
    expect((await m.get(AiActionService).get(ref.tenantId, action.id)).status).toBe('approved');
    await settings.putSettings(tenant.auth, { paused: false, reason: 'over' });
    expect(await m.get(ExecutorRunner).run(ref)).toBe('executed');
    expect(executor.calls).toHaveLength(1);
  });

  it('makes the first pause ever wait for a submission that read "not paused"', async () => {
    const tenant = await make.tenant(); // no kill-switch row yet
    const order: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let read!: () => void;
    const hasRead = new Promise<void>((r) => (read = r));
    const submission = m.db.transaction(async (tx) => {
      const s = await m.get(AiPolicyRepository).settingsForShare(tx, tenant.tenantId);
      expect(s).toEqual({ paused: false, reason: null, updatedAt: null });
      read();
      await held;
      order.push('submission committed');
    });
    await hasRead;
    const pause = m
      .get(AiPolicyService)
      .putSettings(tenant.auth, { paused: true, reason: 'incident' })
      .then(() => order.push('paused'));
    await new Promise((r) => setTimeout(r, 200));
    expect(order).toEqual([]); // the pause waits for the submission's lock
    release();
    await Promise.all([submission, pause]);
    expect(order).toEqual(['submission committed', 'paused']);
    expect((await m.get(AiPolicyService).settings(tenant.tenantId)).paused).toBe(true);
  });

  it('never executes an expired action', async () => {
    const { action, approver, ref } = await pendingAction(1);
    await new Promise((r) => setTimeout(r, 1100));
    expect(await m.get(AiActionService).expire(ref)).toBe(true);
    await expect(approve(approver, action.id)).rejects.toMatchObject({ code: 'not_pending' });
    expect(await m.get(ExecutorRunner).run(ref)).toBe('nothing');
    expect(executor.calls).toHaveLength(0);
    expect(await kinds(ref.tenantId, action.id)).toEqual(['submitted', 'expired']);
  });

  it('records a throwing executor as failed, once, and refuses an outcome from outside', async () => {
    const { tenant, action, approver, ref } = await pendingAction();
    await approve(approver, action.id);
    await expect(
      m.get(AiActionService).outcome(tenant.auth, action.id, { status: 'succeeded', output: {} }),
    ).rejects.toMatchObject({ code: 'not_executable' });
    executor.answer = () => Promise.reject(new Error('smtp down'));
    try {
      expect(await m.get(ExecutorRunner).run(ref)).toBe('executed');
    } finally {
      executor.answer = new RecordingExecutor().answer;
    }
    const done = await m.get(AiActionService).get(ref.tenantId, action.id);
    expect(done.status).toBe('failed');
    expect(done.output).toEqual({ error: 'executor_error' });
    expect(await m.get(ExecutorRunner).run(ref)).toBe('nothing');
    expect(executor.calls).toHaveLength(1);
  });

  it('executes an auto-approved (user-initiated) action of the type too', async () => {
    const tenant = await make.tenant();
    const action = await make.aiAction(tenant, {
      type: TYPE,
      initiator: 'user',
      requestedBy: 'u_1',
      input: { x: 1 },
    });
    expect(action.status).toBe('auto_approved');
    const ref = { tenantId: tenant.tenantId, id: action.id };
    expect(await m.get(ExecutorRunner).run(ref)).toBe('executed');
    expect(executor.calls.map((c) => c.input)).toEqual([{ x: 1 }]);
    expect((await m.get(AiActionService).get(ref.tenantId, action.id)).status).toBe('succeeded');
  });
});
