import { Injectable } from '@nestjs/common';
import { Clock, Database, DomainError, IdGenerator } from '@app/platform';
import { Actor, EventStore } from '@app/events';
import { checkPasswordRules, generatePassword, PasswordHasher } from './password-hasher';
import { Role } from './roles';
import { UserRepository } from './user.repository';
import { SessionRepository } from './session.repository';
import { accountKey, LoginLockout } from './login-lockout';

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Emails are compared as typed, without case or surrounding blanks. */
export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

export interface CreatedUser {
  userId: string;
  email: string;
  role: Role;
  password: string;
}

/** The actor recorded for what a signed-in person does. */
export const userActor = (userId: string): Actor => ({ type: 'user', id: `user:${userId}` });

@Injectable()
export class UserService {
  constructor(
    private readonly db: Database,
    private readonly users: UserRepository,
    private readonly sessions: SessionRepository,
    private readonly hasher: PasswordHasher,
    private readonly lockout: LoginLockout,
    private readonly store: EventStore,
    private readonly ids: IdGenerator,
    private readonly clock: Clock,
  ) {}

  /** An operator's command (CLI): a user with a generated password, shown once. */
  async createByOperator(tenantId: string, rawEmail: string, role: Role): Promise<CreatedUser> {
    const email = normaliseEmail(rawEmail);
    if (email.length > 254 || !EMAIL.test(email)) {
      throw DomainError.invalid('email', 'must be an email address');
    }
    const password = generatePassword();
    const passwordHash = await this.hasher.hash(password);
    const userId = this.ids.next();
    try {
      await this.db.transaction(async (tx) => {
        await this.users.insert(tx, { tenantId, id: userId, email, role, passwordHash });
        await this.store.record(tx, {
          tenantId,
          type: 'console.user_created',
          subject: `user/${userId}`,
          actor: { type: 'system', id: 'cli' },
          data: { userId, role },
        });
      });
    } catch (err) {
      const code = (err as { code?: string; constraint?: string }).code;
      if (code === '23505') throw new DomainError('conflict', 'A user with this email exists');
      if (code === '23503') throw DomainError.notFound('Tenant');
      if (code === '22P02') throw DomainError.notFound('Tenant');
      throw err;
    }
    return { userId, email, role, password };
  }

  /**
   * The signed-in user changes their password: the current one must be right; every other
   * session of theirs ends (the one in use stays).
   */
  async changePassword(
    session: { tenantId: string; userId: string; idHash: Buffer },
    current: string,
    next: string,
  ): Promise<void> {
    checkPasswordRules(next, 'newPassword');
    if (current.length > 256) throw DomainError.invalid('currentPassword', 'is wrong');
    const user = await this.users.find(this.db, session.tenantId, session.userId);
    if (!user) throw DomainError.invalid('currentPassword', 'is wrong');
    // Wrong current passwords count towards the sign-in lockout: a borrowed session cannot
    // guess the password here any faster than at the sign-in form.
    const account = accountKey(user.email);
    // Counted before the check (as at sign-in), so concurrent guesses get no more than five.
    const at = this.clock.now().getTime();
    const { attempt } = await this.lockout.begin(account, at);
    if (!attempt) {
      throw new DomainError('account_locked', 'Too many wrong passwords: try again later');
    }
    if (!(await this.hasher.verify(user.passwordHash, current))) {
      await this.lockout.recordFailure(account, at, attempt);
      throw DomainError.invalid('currentPassword', 'is wrong');
    }
    if ((await this.lockout.succeed(account, attempt)) > 0) {
      throw new DomainError('account_locked', 'Too many wrong passwords: try again later');
    }
    const hash = await this.hasher.hash(next);
    await this.db.transaction(async (tx) => {
      await this.users.setPassword(tx, session.tenantId, session.userId, hash);
      await this.sessions.deleteOthers(tx, session.tenantId, session.userId, session.idHash);
      await this.store.record(tx, {
        tenantId: session.tenantId,
        type: 'console.password_changed',
        subject: `user/${session.userId}`,
        actor: userActor(session.userId),
        data: { userId: session.userId, at: this.clock.now().toISOString() },
      });
    });
  }
}
