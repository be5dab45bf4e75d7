import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { AuthContext, Clock, Database, DomainError, Scope } from '@app/platform';
import { EventStore } from '@app/events';
import { accountKey, LOCKOUT_DURATION_MS as LOCKOUT_MS, LoginLockout } from './login-lockout';
import { MAX_PASSWORD_LENGTH, PasswordHasher } from './password-hasher';
import { Role, scopesOf } from './roles';
import { SessionRepository } from './session.repository';
import { cookieMaxAgeSeconds, needsTouch, sessionState } from './session-lifetime';
import { csrfToken, isSessionId, newSessionId, sessionHash } from './session-token';
import { normaliseEmail, userActor } from './user.service';
import { UserRepository } from './user.repository';

/** Who a valid session cookie belongs to. */
export interface SessionAuth {
  tenantId: string;
  userId: string;
  email: string;
  role: Role;
  scopes: ReadonlySet<Scope>;
  csrfToken: string;
  idHash: Buffer;
  /** Seconds left of the absolute lifetime. */
  maxAgeSeconds: number;
}

export interface LoginResult {
  sessionId: string;
  session: SessionAuth;
}

/** The one answer to a failed sign-in, whether the email is unknown or the password wrong. */
export const BAD_CREDENTIALS = 'The email or password is not right';

/** The session as the API-key guard sees a caller: the role's scopes, the user as principal. */
export function authContextOf(s: SessionAuth): AuthContext {
  return { tenantId: s.tenantId, keyId: `user:${s.userId}`, scopes: s.scopes, userId: s.userId };
}

/**
 * Sign-in, sign-out and the session behind a cookie. A login costs one argon2 verification
 * (a dummy one for an unknown email), none when the account is locked.
 */
@Injectable()
export class SessionService implements BeforeApplicationShutdown {
  private readonly logger = new Logger(SessionService.name);
  private readonly pendingRecords = new Set<Promise<void>>();

  constructor(
    private readonly db: Database,
    private readonly users: UserRepository,
    private readonly sessions: SessionRepository,
    private readonly hasher: PasswordHasher,
    private readonly lockout: LoginLockout,
    private readonly store: EventStore,
    private readonly clock: Clock,
  ) {}

  /** `previous`: the session cookie the browser sent, ended here (a new id at every login). */
  async login(rawEmail: string, password: string, previous?: string): Promise<LoginResult> {
    const email = normaliseEmail(rawEmail);
    const account = accountKey(email);
    const at = this.clock.now().getTime();
    // The lock is checked and this attempt counted in one step, before the password is verified.
    const { attempt, lockedMs } = await this.lockout.begin(account, at);
    if (!attempt) throw this.lockedError(lockedMs);
    const user = email.length <= 254 ? await this.users.findByEmail(email) : null;
    const ok =
      password.length <= MAX_PASSWORD_LENGTH &&
      (await this.hasher.verify(user?.passwordHash ?? null, password));
    if (!ok || !user) {
      const { failures, locked } = await this.lockout.recordFailure(account, at, attempt);
      // The events are written after the answer, so a known email takes no longer to refuse
      // than an unknown one (the same Redis step for both, nothing else before the answer).
      if (user) this.recordFailureLater(user.tenantId, user.id, locked && failures > 0);
      else if (locked && failures > 0) {
        this.logger.warn('an unknown account was locked after failed sign-ins');
      }
      if (locked) throw this.lockedError(LOCKOUT_MS);
      throw new DomainError('unauthorized', BAD_CREDENTIALS);
    }
    // Locked while this attempt was verified (a burst): refused with the same answer.
    const lockedMeanwhile = await this.lockout.succeed(account, attempt);
    if (lockedMeanwhile > 0) throw this.lockedError(lockedMeanwhile);
    const now = this.clock.now();
    const sessionId = newSessionId();
    const idHash = sessionHash(sessionId);
    await this.db.transaction(async (tx) => {
      if (previous && isSessionId(previous)) await this.sessions.delete(tx, sessionHash(previous));
      await this.sessions.insert(tx, { idHash, tenantId: user.tenantId, userId: user.id, at: now });
      await this.store.record(tx, {
        tenantId: user.tenantId,
        type: 'console.login',
        subject: `user/${user.id}`,
        actor: userActor(user.id),
        data: { userId: user.id, role: user.role },
      });
    });
    return {
      sessionId,
      session: {
        tenantId: user.tenantId,
        userId: user.id,
        email: user.email,
        role: user.role,
        scopes: scopesOf(user.role),
        csrfToken: csrfToken(sessionId),
        idHash,
        maxAgeSeconds: cookieMaxAgeSeconds(now, now),
      },
    };
  }

  /** The session behind a cookie value, or null (unknown, malformed, idle or too old). */
  async authenticate(sessionId: string): Promise<SessionAuth | null> {
    if (!isSessionId(sessionId)) return null;
    const idHash = sessionHash(sessionId);
    const stored = await this.sessions.find(idHash);
    if (!stored) return null;
    const now = this.clock.now();
    if (sessionState(stored, now) !== 'active') {
      await this.sessions.delete(this.db, idHash);
      return null;
    }
    if (needsTouch(stored.lastSeenAt, now)) await this.sessions.touch(idHash, now);
    return {
      tenantId: stored.tenantId,
      userId: stored.userId,
      email: stored.email,
      role: stored.role,
      scopes: scopesOf(stored.role),
      csrfToken: csrfToken(sessionId),
      idHash,
      maxAgeSeconds: cookieMaxAgeSeconds(stored.createdAt, now),
    };
  }

  /** Ends the session (if it still exists) and records the sign-out. */
  async logout(sessionId: string): Promise<void> {
    if (!isSessionId(sessionId)) return;
    await this.db.transaction(async (tx) => {
      const ended = await this.sessions.delete(tx, sessionHash(sessionId));
      if (!ended) return;
      await this.store.record(tx, {
        tenantId: ended.tenantId,
        type: 'console.logout',
        subject: `user/${ended.userId}`,
        actor: userActor(ended.userId),
        data: { userId: ended.userId },
      });
    });
  }

  /** Records a failed sign-in after the answer has gone (errors are logged, not thrown). */
  private recordFailureLater(tenantId: string, userId: string, locked: boolean): void {
    const pending = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.recordFailure(tenantId, userId, locked))
      .catch((err: Error) => this.logger.error(`recording a failed sign-in failed: ${err.message}`))
      .finally(() => this.pendingRecords.delete(pending));
    this.pendingRecords.add(pending);
  }

  /** Waits for failed sign-ins still being recorded (tests; a clean shutdown). */
  async settled(): Promise<void> {
    await Promise.all([...this.pendingRecords]);
  }

  /** Before the database pool closes: the failures answered but not yet recorded. */
  beforeApplicationShutdown(): Promise<void> {
    return this.settled();
  }

  private async recordFailure(tenantId: string, userId: string, locked: boolean): Promise<void> {
    await this.db.transaction(async (tx) => {
      const base = { tenantId, subject: `user/${userId}`, actor: userActor(userId) };
      await this.store.record(tx, {
        ...base,
        type: 'console.login_failed',
        data: { userId, reason: 'bad_credentials' },
      });
      if (locked) {
        await this.store.record(tx, {
          ...base,
          type: 'console.locked',
          data: { userId, minutes: LOCKOUT_MS / 60000 },
        });
      }
    });
  }

  private lockedError(ms: number): DomainError {
    return new DomainError(
      'account_locked',
      'Too many failed sign-ins: this account is locked for a while',
      undefined,
      { 'retry-after': String(Math.max(1, Math.ceil(ms / 1000))) },
    );
  }
}
