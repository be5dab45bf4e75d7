import { Module, OnModuleInit } from '@nestjs/common';
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
