import { Injectable } from '@nestjs/common';
import { Database, Sql, Tx } from '@app/platform';
import { Role } from './roles';

/** A session row joined with its user: what a request needs to know who is signed in. */
export interface StoredSession {
  tenantId: string;
  userId: string;
  email: string;
  role: Role;
  createdAt: Date;
  lastSeenAt: Date;
}

interface SessionRow {
  tenant_id: string;
  user_id: string;
  email: string;
  role: Role;
  created_at: Date;
  last_seen_at: Date;
}

/** Server-side sessions, looked up by the SHA-256 of the cookie's id (never the id itself). */
@Injectable()
export class SessionRepository {
  constructor(private readonly db: Database) {}

  async insert(
    tx: Tx,
    s: { idHash: Buffer; tenantId: string; userId: string; at: Date },
  ): Promise<void> {
    await tx.query(
      `INSERT INTO sessions (id_hash, tenant_id, user_id, created_at, last_seen_at)
       VALUES ($1, $2, $3, $4, $4)`,
      [s.idHash, s.tenantId, s.userId, s.at],
    );
  }

  async find(idHash: Buffer): Promise<StoredSession | null> {
    const rows = await this.db.query<SessionRow>(
      `SELECT s.tenant_id, s.user_id, u.email, u.role, s.created_at, s.last_seen_at
       FROM sessions s JOIN users u ON u.tenant_id = s.tenant_id AND u.id = s.user_id
       WHERE s.id_hash = $1`,
      [idHash],
      'session_find',
    );
    if (!rows.length) return null;
    const r = rows[0];
    return {
      tenantId: r.tenant_id,
      userId: r.user_id,
      email: r.email,
      role: r.role,
      createdAt: r.created_at,
      lastSeenAt: r.last_seen_at,
    };
  }

  async touch(idHash: Buffer, at: Date): Promise<void> {
    await this.db.query(
      `UPDATE sessions SET last_seen_at = $2 WHERE id_hash = $1 AND last_seen_at < $2`,
      [idHash, at],
      'session_touch',
    );
  }

  /** Deletes the session; returns whose it was (null: there was none). */
  async delete(sql: Sql, idHash: Buffer): Promise<{ tenantId: string; userId: string } | null> {
    const rows = await sql.query<{ tenant_id: string; user_id: string }>(
      `DELETE FROM sessions WHERE id_hash = $1 RETURNING tenant_id, user_id`,
      [idHash],
    );
    return rows.length ? { tenantId: rows[0].tenant_id, userId: rows[0].user_id } : null;
  }

  /** Every other session of the user (after a password change). */
  async deleteOthers(tx: Tx, tenantId: string, userId: string, keep: Buffer): Promise<void> {
    await tx.query(`DELETE FROM sessions WHERE tenant_id = $1 AND user_id = $2 AND id_hash <> $3`, [
      tenantId,
      userId,
      keep,
    ]);
  }

  /** Sessions past the absolute lifetime or idle too long; returns how many went. */
  async purge(createdBefore: Date, seenBefore: Date): Promise<number> {
    const rows = await this.db.query(
      `DELETE FROM sessions WHERE created_at < $1 OR last_seen_at < $2 RETURNING 1`,
      [createdBefore, seenBefore],
    );
    return rows.length;
  }
}
