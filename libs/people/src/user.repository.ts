import { Injectable } from '@nestjs/common';
import { Database, Sql, Tx } from '@app/platform';
import { Role } from './roles';

export interface User {
  tenantId: string;
  id: string;
  email: string;
  role: Role;
  passwordHash: string;
  createdAt: Date;
}

interface UserRow {
  tenant_id: string;
  id: string;
  email: string;
  role: Role;
  password_hash: string;
  created_at: Date;
}

const fromRow = (r: UserRow): User => ({
  tenantId: r.tenant_id,
  id: r.id,
  email: r.email,
  role: r.role,
  passwordHash: r.password_hash,
  createdAt: r.created_at,
});

/** Users; every query but the sign-in lookup (by globally unique email) is tenant-scoped. */
@Injectable()
export class UserRepository {
  constructor(private readonly db: Database) {}

  async insert(tx: Tx, user: Omit<User, 'createdAt'>): Promise<void> {
    await tx.query(
      `INSERT INTO users (tenant_id, id, email, role, password_hash) VALUES ($1, $2, $3, $4, $5)`,
      [user.tenantId, user.id, user.email, user.role, user.passwordHash],
    );
  }

  /** Sign-in: the email alone names the account (normalised lower case). */
  async findByEmail(email: string): Promise<User | null> {
    const rows = await this.db.query<UserRow>(
      `SELECT tenant_id, id, email, role, password_hash, created_at FROM users WHERE email = $1`,
      [email],
      'user_by_email',
    );
    return rows.length ? fromRow(rows[0]) : null;
  }

  async find(sql: Sql, tenantId: string, id: string): Promise<User | null> {
    const rows = await sql.query<UserRow>(
      `SELECT tenant_id, id, email, role, password_hash, created_at FROM users
       WHERE tenant_id = $1 AND id = $2`,
      [tenantId, id],
      'user_by_id',
    );
    return rows.length ? fromRow(rows[0]) : null;
  }

  async setPassword(tx: Tx, tenantId: string, id: string, hash: string): Promise<void> {
    await tx.query(
      `UPDATE users SET password_hash = $3, password_changed_at = now()
       WHERE tenant_id = $1 AND id = $2`,
      [tenantId, id, hash],
    );
  }

  /** The tenant's users with one of `roles`: who hears of waiting work. */
  async withRoles(tenantId: string, roles: Role[]): Promise<Pick<User, 'id' | 'email'>[]> {
    return this.db.query<{ id: string; email: string }>(
      `SELECT id, email FROM users WHERE tenant_id = $1 AND role = ANY($2::text[]) ORDER BY id`,
      [tenantId, roles],
    );
  }
}
