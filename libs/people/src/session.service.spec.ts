import { Clock, Database, DomainError } from '@app/platform';
import { EventStore } from '@app/events';
import { LoginLockout } from './login-lockout';
import { PasswordHasher } from './password-hasher';
import { SessionRepository } from './session.repository';
import { SessionService } from './session.service';
import { UserRepository } from './user.repository';

/** M2: nothing but the same Redis step stands between a failed sign-in and its answer. */
describe('SessionService.login on a wrong password', () => {
  const build = () => {
    let transactions = 0;
    const db = {
      // A transaction that never finishes: the answer must not wait for it.
      transaction: () => {
        transactions++;
        return new Promise(() => undefined);
      },
    } as unknown as Database;
    const known = { id: 'u1', tenantId: 't1', email: 'a@example.com', role: 'approver' };
    const users = {
      findByEmail: (e: string) => Promise.resolve(e === known.email ? known : null),
    } as unknown as UserRepository;
    const hasher = { verify: () => Promise.resolve(false) } as unknown as PasswordHasher;
    const lockout = {
      begin: () => Promise.resolve({ attempt: 'a1', lockedMs: 0 }),
      recordFailure: () => Promise.resolve({ failures: 1, locked: false }),
    } as unknown as LoginLockout;
    const clock = { now: () => new Date() } as Clock;
    const service = new SessionService(
      db,
      users,
      {} as SessionRepository,
      hasher,
      lockout,
      {} as EventStore,
      clock,
    );
    return { service, transactions: () => transactions };
  };

  it('answers a known email as fast as an unknown one: the failure is recorded after', async () => {
    const { service, transactions } = build();
    for (const email of ['a@example.com', 'nobody@example.com']) {
      await expect(service.login(email, 'wrong-password')).rejects.toMatchObject({
        code: 'unauthorized',
      } as Partial<DomainError>);
    }
    expect(transactions()).toBe(0);
    await new Promise((r) => setImmediate(r));
    // Recorded for the known user only, once the answer has gone.
    expect(transactions()).toBe(1);
  });
});
