import { Clock, DomainError, RedisConnections } from '@app/platform';
import { IdentityModule } from '@app/identity';
import {
  accountKey,
  LoginLockout,
  PasswordHasher,
  PeopleModule,
  SessionService,
  UserService,
} from '@app/people';
import { ApproverNoticeRepository, NOTICE_MAX_ATTEMPTS } from '@app/console';
import { MediumApp } from './support/medium-app';
import { factories } from './support/factories';

const MIN = 60_000;

describe('people (medium: sessions and lockout on real PostgreSQL and Redis)', () => {
  let m: MediumApp;
  let make: ReturnType<typeof factories>;
  let now: number;

  beforeAll(async () => {
    m = await MediumApp.start([IdentityModule, PeopleModule]);
    make = factories(m);
    now = Date.parse('2026-03-01T08:00:00Z');
    m.get(Clock).now = () => new Date(now);
  });
  afterAll(() => m?.stop());

  const user = async (role: 'approver' | 'viewer' = 'approver') => {
    const { tenantId } = await make.tenant();
    const email = `u${Math.random().toString(36).slice(2, 8)}@example.com`;
    return { tenantId, ...(await m.get(UserService).createByOperator(tenantId, email, role)) };
  };

  describe('lockout counting', () => {
    const account = () => accountKey(`acct-${Math.random()}`);
    // Two instances stand for two API replicas: they count in the same Redis.
    const replicas = () => [
      new LoginLockout(m.get(RedisConnections)),
      new LoginLockout(m.get(RedisConnections)),
    ];

    it('locks on the fifth failure within 15 minutes, counted across replicas', async () => {
      const [a, b] = replicas();
      const acct = account();
      const t0 = Date.now();
      for (let i = 1; i <= 4; i++) {
        const r = await (i % 2 ? a : b).recordFailure(acct, t0 + i * MIN);
        expect(r).toEqual({ failures: i, locked: false });
      }
      expect(await a.lockedFor(acct)).toBe(0);
      expect(await b.recordFailure(acct, t0 + 14 * MIN)).toEqual({ failures: 5, locked: true });
      const left = await a.lockedFor(acct);
      expect(left).toBeGreaterThan(14 * MIN);
      expect(left).toBeLessThanOrEqual(15 * MIN);
    });

    it('forgets failures older than 15 minutes (a sliding window)', async () => {
      const [a] = replicas();
      const acct = account();
      const t0 = Date.now();
      for (const at of [0, 1, 2, 3]) await a.recordFailure(acct, t0 + at * MIN);
      // At +16.5 min the failures at 0 and +1 have left the window: this is the third in it.
      expect(await a.recordFailure(acct, t0 + 16.5 * MIN)).toEqual({ failures: 3, locked: false });
    });

    it('starts again after a successful sign-in', async () => {
      const [a] = replicas();
      const acct = account();
      const t0 = Date.now();
      for (let i = 0; i < 4; i++) await a.recordFailure(acct, t0 + i);
      await a.clear(acct);
      expect(await a.recordFailure(acct, t0 + 10)).toEqual({ failures: 1, locked: false });
    });
  });

  describe('lockout under a burst (attempts counted before the password is verified)', () => {
    it('admits five attempts in flight, refuses the sixth, and a success after the lock is refused', async () => {
      const lockout = new LoginLockout(m.get(RedisConnections));
      const acct = accountKey(`burst-${Math.random()}`);
      const t0 = Date.now();
      const begun = [];
      for (let i = 0; i < 5; i++) begun.push(await lockout.begin(acct, t0 + i));
      expect(begun.every((b) => b.attempt !== null)).toBe(true);
      const sixth = await lockout.begin(acct, t0 + 6);
      expect(sixth.attempt).toBeNull();
      expect(sixth.lockedMs).toBeGreaterThan(0);
      // Five are counted (in flight too): the first of them to fail locks the account, and the
      // one still being verified (the right password, say) is refused when it succeeds.
      expect(await lockout.recordFailure(acct, t0 + 10, begun[0].attempt!)).toEqual({
        failures: 5,
        locked: true,
      });
      expect(await lockout.succeed(acct, begun[4].attempt!)).toBeGreaterThan(14 * MIN);
    });

    it('gives a concurrent burst of sign-ins at most five password checks', async () => {
      const u = await user('viewer');
      const sessions = m.get(SessionService);
      const hasher = m.get(PasswordHasher);
      await hasher.warm();
      const before = hasher.hashes;
      const answers = await Promise.all(
        Array.from({ length: 12 }, () =>
          sessions.login(u.email, 'wrong-password-1').catch((e: DomainError) => e.code),
        ),
      );
      expect(hasher.hashes - before).toBeLessThanOrEqual(5);
      expect(answers.filter((a) => a === 'unauthorized').length).toBeLessThanOrEqual(4);
      expect(answers.every((a) => a === 'unauthorized' || a === 'account_locked')).toBe(true);
      await expect(sessions.login(u.email, u.password)).rejects.toMatchObject({
        code: 'account_locked',
      });
      await sessions.settled();
    });
  });

  describe('sessions', () => {
    it('end after 30 minutes without use, and stay while used', async () => {
      const u = await user();
      const sessions = m.get(SessionService);
      const { sessionId } = await sessions.login(u.email, u.password);
      now += 29 * MIN;
      expect(await sessions.authenticate(sessionId)).toMatchObject({ userId: u.userId });
      now += 29 * MIN; // 58 min after sign-in, 29 after the last use
      expect(await sessions.authenticate(sessionId)).toMatchObject({ userId: u.userId });
      now += 30 * MIN;
      expect(await sessions.authenticate(sessionId)).toBeNull();
      // Gone for good, not just refused.
      now -= 30 * MIN;
      expect(await sessions.authenticate(sessionId)).toBeNull();
    });

    it('end 12 hours after sign-in however busy', async () => {
      const u = await user();
      const sessions = m.get(SessionService);
      const { sessionId } = await sessions.login(u.email, u.password);
      for (let used = 0; used < 12 * 60 - 20; used += 20) {
        now += 20 * MIN;
        expect(await sessions.authenticate(sessionId)).not.toBeNull();
      }
      now += 20 * MIN;
      expect(await sessions.authenticate(sessionId)).toBeNull();
    });

    it('rotates the id at sign-in: the previous session of the browser ends', async () => {
      const u = await user();
      const sessions = m.get(SessionService);
      const first = await sessions.login(u.email, u.password);
      const second = await sessions.login(u.email, u.password, first.sessionId);
      expect(second.sessionId).not.toBe(first.sessionId);
      expect(await sessions.authenticate(first.sessionId)).toBeNull();
      expect(await sessions.authenticate(second.sessionId)).not.toBeNull();
    });

    it('costs one argon2 hash per sign-in (a dummy one for an unknown email), none when locked', async () => {
      const u = await user('viewer');
      const sessions = m.get(SessionService);
      const hasher = m.get(PasswordHasher);
      await hasher.warm();
      const cost = async (email: string, password: string) => {
        const before = hasher.hashes;
        await sessions.login(email, password).catch((e: DomainError) => e.code);
        return hasher.hashes - before;
      };
      expect(await cost(u.email, u.password)).toBe(1);
      expect(await cost(u.email, 'wrong-password-1')).toBe(1);
      expect(await cost('nobody@example.com', 'wrong-password-1')).toBe(1);
      for (let i = 0; i < 4; i++) await cost(u.email, 'wrong-password-1');
      const locked = await sessions.login(u.email, u.password).catch((e: DomainError) => e);
      expect((locked as DomainError).code).toBe('account_locked');
      expect(await cost(u.email, u.password)).toBe(0);
    });

    it('changes a password: the old one stops working, other sessions end, this one stays', async () => {
      const u = await user();
      const sessions = m.get(SessionService);
      const other = await sessions.login(u.email, u.password);
      const mine = await sessions.login(u.email, u.password);
      await expect(
        m.get(UserService).changePassword(mine.session, 'wrong', 'a-new-long-password'),
      ).rejects.toMatchObject({ code: 'validation_failed' });
      await expect(
        m.get(UserService).changePassword(mine.session, u.password, 'short'),
      ).rejects.toMatchObject({ code: 'validation_failed' });
      await m.get(UserService).changePassword(mine.session, u.password, 'a-new-long-password');
      expect(await sessions.authenticate(other.sessionId)).toBeNull();
      expect(await sessions.authenticate(mine.sessionId)).not.toBeNull();
      await expect(sessions.login(u.email, u.password)).rejects.toMatchObject({
        code: 'unauthorized',
      });
      expect((await sessions.login(u.email, 'a-new-long-password')).session.userId).toBe(u.userId);
    });
  });

  describe('approver notices that fail', () => {
    it('are retried with a doubling wait, stop after the last attempt, and keep a code only', async () => {
      const repo = new ApproverNoticeRepository(m.db);
      const { tenantId } = await make.tenant();
      const uuid = () => crypto.randomUUID();
      await m.db.transaction((tx) =>
        repo.insert(tx, [
          { tenantId, actionId: uuid(), userId: uuid(), actionType: 'crm.x', risk: 'high' },
        ]),
      );
      const claim = () => repo.claimDue(tenantId, 60_000, 10, NOTICE_MAX_ATTEMPTS, 3_600_000);
      // Pretend the last attempt was `minutesAgo` minutes ago.
      const triedAgo = (minutesAgo: number) =>
        m.db.query(
          `UPDATE approver_notices SET last_attempt_at = now() - make_interval(secs => $2::float8 * 60)
           WHERE tenant_id = $1`,
          [tenantId, minutesAgo],
        );
      const [first] = await claim();
      expect(first.attempts).toBe(1);
      await repo.markFailed(first, 'smtp_550');
      // After the 1st failure: due after 1 min; after the 2nd: 2 min; after the 3rd: 4 min.
      for (const [attempt, wait] of [
        [2, 1],
        [3, 2],
        [4, 4],
      ]) {
        await triedAgo(wait - 0.5);
        expect(await claim()).toHaveLength(0);
        await triedAgo(wait + 0.5);
        const [again] = await claim();
        expect(again.attempts).toBe(attempt);
        await repo.markFailed(again, 'ESOCKET');
      }
      await m.db.query(`UPDATE approver_notices SET attempts = $2 WHERE tenant_id = $1`, [
        tenantId,
        NOTICE_MAX_ATTEMPTS,
      ]);
      await triedAgo(24 * 60);
      expect(await claim()).toHaveLength(0);
      expect(await repo.tenantsWithDue(NOTICE_MAX_ATTEMPTS)).not.toContain(tenantId);
      const [row] = await m.db.query<{ last_error: string }>(
        `SELECT last_error FROM approver_notices WHERE tenant_id = $1`,
        [tenantId],
      );
      expect(row.last_error).toBe('ESOCKET');
    });
  });
});
