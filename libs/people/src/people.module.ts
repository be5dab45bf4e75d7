import { Injectable, Module, OnModuleInit } from '@nestjs/common';
import { Clock, Periodic } from '@app/platform';
import { SESSION_ABSOLUTE_MS, SESSION_IDLE_MS } from './session-lifetime';
import { EventsModule } from '@app/events';
import { AuthController } from './auth.controller';
import { LoginLockout } from './login-lockout';
import { PasswordHasher } from './password-hasher';
import { SessionRepository } from './session.repository';
import { SessionService } from './session.service';
import { UserRepository } from './user.repository';
import { UserService } from './user.service';

const CORE = [
  UserRepository,
  SessionRepository,
  PasswordHasher,
  LoginLockout,
  UserService,
  SessionService,
];

/** Users, roles, passwords, sessions and the sign-in lockout; no transport. */
@Module({ imports: [EventsModule], providers: CORE, exports: CORE })
export class PeopleModule {}

/** `/auth/login`, `/auth/logout`; main.ts installs the session hook (installSessions). */
@Module({ imports: [PeopleModule], controllers: [AuthController] })
export class PeopleHttpModule implements OnModuleInit {
  constructor(private readonly hasher: PasswordHasher) {}

  /** The dummy hash for unknown emails is made before the first sign-in needs it. */
  async onModuleInit(): Promise<void> {
    await this.hasher.warm();
  }
}

/** Deletes sessions past their idle or absolute lifetime (they are refused anyway). */
@Injectable()
export class SessionPurger {
  constructor(
    private readonly sessions: SessionRepository,
    private readonly clock: Clock,
  ) {}

  @Periodic('session-purge', 10 * 60 * 1000)
  purge(): Promise<number> {
    const now = this.clock.now().getTime();
    return this.sessions.purge(
      new Date(now - SESSION_ABSOLUTE_MS),
      new Date(now - SESSION_IDLE_MS),
    );
  }
}

/** The worker's part: purging ended sessions. */
@Module({ imports: [PeopleModule], providers: [SessionPurger] })
export class PeopleWorkerModule {}
