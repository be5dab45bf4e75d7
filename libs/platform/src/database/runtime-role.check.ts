import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Database } from './database';
import { bypassFinding, RUNTIME_ROLE_CHECK_SQL } from './runtime-role';

/**
 * At start, warns (once, loudly, without refusing to start: single-user setups are allowed)
 * when the role the application runs as could get past the append-only triggers.
 */
@Injectable()
export class RuntimeRoleCheck implements OnApplicationBootstrap {
  private readonly logger = new Logger('RuntimeRole');

  constructor(private readonly db: Database) {}

  async onApplicationBootstrap(): Promise<void> {
    try {
      const [row] =
        await this.db.query<Parameters<typeof bypassFinding>[0]>(RUNTIME_ROLE_CHECK_SQL);
      const finding = bypassFinding(row);
      if (!finding) return;
      this.logger.warn(
        `tamper risk: database role "${finding.role}" can bypass the append-only triggers ` +
          `(${finding.reasons.join('; ')}), so whoever holds DATABASE_URL can rewrite the audit ` +
          `record; run the API and worker as a role with only SELECT and INSERT on append-only ` +
          `tables and migrate as the owner with MIGRATION_DATABASE_URL`,
      );
    } catch (err) {
      this.logger.warn(`could not check the runtime role's privileges: ${(err as Error).message}`);
    }
  }
}
