import { Global, Module } from '@nestjs/common';
import { Database } from './database';
import { RuntimeRoleCheck } from './runtime-role.check';

@Global()
@Module({ providers: [Database, RuntimeRoleCheck], exports: [Database] })
export class DatabaseModule {}
