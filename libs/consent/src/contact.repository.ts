import { Injectable } from '@nestjs/common';
import { Database, Sql, Tx } from '@app/platform';
import { Contact } from './consent.types';

export interface ContactRow {
  id: string;
  external_id: string;
  email: string | null;
  phone: string | null;
  whatsapp: string | null;
  postal_address: string | null;
  time_zone: string | null;
  do_not_contact: boolean;
  do_not_contact_reason: string | null;
  erased_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export const CONTACT_COLUMNS =
  'id, external_id, email, phone, whatsapp, postal_address, time_zone, do_not_contact, do_not_contact_reason, erased_at, created_at, updated_at';

export const toContact = (r: ContactRow): Contact => ({
  id: r.id,
  externalId: r.external_id,
  email: r.email,
  phone: r.phone,
  whatsapp: r.whatsapp,
  postalAddress: r.postal_address,
  timeZone: r.time_zone,
  doNotContact: r.do_not_contact,
  doNotContactReason: r.do_not_contact_reason,
  erasedAt: r.erased_at?.toISOString() ?? null,
  createdAt: r.created_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
});

export type ContactFields = Pick<
  Contact,
  'externalId' | 'email' | 'phone' | 'whatsapp' | 'postalAddress' | 'timeZone'
>;

/** contacts: one row per person a tenant may message. */
@Injectable()
export class ContactRepository {
  constructor(private readonly db: Database) {}

  /** null when the tenant already has a contact with this externalId. */
  async insert(tx: Tx, tenantId: string, id: string, f: ContactFields, at: Date) {
    const rows = await tx.query<ContactRow>(
      `INSERT INTO contacts (tenant_id, id, external_id, email, phone, whatsapp, postal_address,
                             time_zone, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)
       ON CONFLICT ON CONSTRAINT contacts_external_id_uq DO NOTHING
       RETURNING ${CONTACT_COLUMNS}`,
      [tenantId, id, f.externalId, f.email, f.phone, f.whatsapp, f.postalAddress, f.timeZone, at],
    );
    return rows[0] ? toContact(rows[0]) : null;
  }

  async find(sql: Sql, tenantId: string, id: string): Promise<Contact | null> {
    const [row] = await sql.query<ContactRow>(
      `SELECT ${CONTACT_COLUMNS} FROM contacts WHERE tenant_id = $1 AND id = $2`,
      [tenantId, id],
      'contact_by_id',
    );
    return row ? toContact(row) : null;
  }

  /** The contact, its row locked until the transaction ends (consent changes, erasure). */
  async lock(tx: Tx, tenantId: string, id: string): Promise<Contact | null> {
    const [row] = await tx.query<ContactRow>(
      `SELECT ${CONTACT_COLUMNS} FROM contacts WHERE tenant_id = $1 AND id = $2 FOR UPDATE`,
      [tenantId, id],
    );
    return row ? toContact(row) : null;
  }

  /**
   * Locks the contacts FOR SHARE (an erasure, which takes FOR UPDATE, waits for this unit of
   * work, and this one for an erasure under way) and returns the ids of those erased or gone.
   */
  async erasedForShare(tx: Tx, tenantId: string, ids: string[]): Promise<Set<string>> {
    const rows = await tx.query<{ id: string; erased: boolean }>(
      `SELECT id, erased_at IS NOT NULL AS erased FROM contacts
       WHERE tenant_id = $1 AND id = ANY($2::uuid[]) ORDER BY id FOR SHARE`,
      [tenantId, ids],
    );
    const live = new Set(rows.filter((r) => !r.erased).map((r) => r.id));
    return new Set(ids.filter((id) => !live.has(id)));
  }

  async list(tenantId: string, afterId: string | null, limit: number): Promise<Contact[]> {
    const rows = await this.db.query<ContactRow>(
      `SELECT ${CONTACT_COLUMNS} FROM contacts WHERE tenant_id = $1 AND ($2::uuid IS NULL OR id > $2)
       ORDER BY id LIMIT $3`,
      [tenantId, afterId, limit],
    );
    return rows.map(toContact);
  }

  /** false when another contact of the tenant has this externalId. */
  async update(tx: Tx, tenantId: string, c: Contact, at: Date): Promise<boolean> {
    const rows = await tx.query(
      `UPDATE contacts SET external_id = $3, email = $4, phone = $5, whatsapp = $6,
              postal_address = $7, time_zone = $8, do_not_contact = $9,
              do_not_contact_reason = $10, updated_at = $11
       WHERE tenant_id = $1 AND id = $2
         AND NOT EXISTS (SELECT 1 FROM contacts o WHERE o.tenant_id = $1 AND o.external_id = $3
                         AND o.id <> $2)
       RETURNING id`,
      [
        tenantId,
        c.id,
        c.externalId,
        c.email,
        c.phone,
        c.whatsapp,
        c.postalAddress,
        c.timeZone,
        c.doNotContact,
        c.doNotContactReason,
        at,
      ],
    );
    return rows.length === 1;
  }

  /** Erasure: every personal field goes; the row stays so the consent log keeps its subject. */
  async erase(tx: Tx, tenantId: string, id: string, at: Date): Promise<void> {
    await tx.query(
      `UPDATE contacts SET external_id = 'erased:' || id::text, email = NULL, phone = NULL,
              whatsapp = NULL, postal_address = NULL, time_zone = NULL,
              do_not_contact = true, do_not_contact_reason = 'erased', erased_at = $3,
              updated_at = $3
       WHERE tenant_id = $1 AND id = $2`,
      [tenantId, id, at],
    );
  }
}
