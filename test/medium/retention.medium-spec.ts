import { randomUUID } from 'node:crypto';
import { Clock, STREAM_QUEUES } from '@app/platform';
import { ConsentSettingsRepository, ErasureRegistry } from '@app/consent';
import { RetentionPurger } from '@app/consent/consent.processors';
import { MessagingModule } from '@app/messaging';
import { MediumApp } from './support/medium-app';
import { factories } from './support/factories';

const DAY_MS = 86400e3;

describe('retention (medium: RetentionPurger on real PostgreSQL)', () => {
  let m: MediumApp;
  let make: ReturnType<typeof factories>;

  beforeAll(async () => {
    m = await MediumApp.start([MessagingModule]);
    make = factories(m);
  });
  afterAll(() => m?.stop());

  const purger = () =>
    new RetentionPurger(m.get(ConsentSettingsRepository), m.get(ErasureRegistry), m.get(Clock));

  /** Every stream consumer's cursor for the tenant at `position`. */
  const cursorsAt = (tenantId: string, position: number) =>
    m.db.query(
      `INSERT INTO stream_cursors (tenant_id, consumer, position) SELECT $1, c, $2 FROM unnest($3::text[]) c
       ON CONFLICT (tenant_id, consumer) DO UPDATE SET position = EXCLUDED.position`,
      [tenantId, position, STREAM_QUEUES],
    );

  const eventIds = async (tenantId: string) =>
    (
      await m.db.query<{ id: string }>(
        'SELECT id FROM events WHERE tenant_id = $1 ORDER BY position',
        [tenantId],
      )
    ).map((r) => r.id);

  async function message(tenantId: string, status: string, ageDays: number) {
    const at = new Date(Date.now() - ageDays * DAY_MS);
    const id = randomUUID();
    await m.db.query(
      `INSERT INTO messages (tenant_id, id, contact_id, channel, category, subject, body, status,
                             next_attempt_at, created_at, updated_at)
       VALUES ($1, $2, $3, 'email', 'marketing', 'Offer', 'Hello', $4, $5, $5, $5)`,
      [tenantId, id, randomUUID(), status, at],
    );
    return id;
  }

  it('deletes only old raw events every consumer has passed and no delivery waits for, and old finished message bodies', async () => {
    const tenant = await make.tenant();
    const other = await make.tenant('other');
    const t = tenant.tenantId;
    const old = new Date(Date.now() - 400 * DAY_MS);
    // Positions: the tenant's own creation events first, then four old events and a recent one.
    const before = await eventIds(t);
    const [processed, awaited, unconsumed] = await make.events(t, 3, { receivedAt: old });
    await make.events(t, 1);
    const [othersOld] = await make.events(other.tenantId, 1, { receivedAt: old });
    const head = before.length + 4;
    // Every consumer has passed the old events but one (the last old one's position).
    await cursorsAt(t, head - 2);
    await cursorsAt(other.tenantId, 100);
    await m.db.query(
      `INSERT INTO webhook_deliveries (tenant_id, id, endpoint_id, event_id, event_type, status, next_attempt_at)
       VALUES ($1, $2, $3, $4, 'invoice.paid', 'pending', now())`,
      [t, randomUUID(), randomUUID(), awaited.id],
    );
    const sentOld = await message(t, 'sent', 40);
    const queuedOld = await message(t, 'queued', 40);
    const sentNew = await message(t, 'sent', 1);
    await m.db.transaction((tx) =>
      m
        .get(ConsentSettingsRepository)
        .putRetention(tx, t, { eventsDays: 365, messagesDays: 30 }, new Date()),
    );

    const purged = await purger().purge();

    const left = await eventIds(t);
    expect(left).not.toContain(processed.id);
    expect(left).toContain(awaited.id); // a delivery still waits for it
    expect(left).toContain(unconsumed.id); // not every consumer has passed it
    expect(left).toHaveLength(before.length + 3); // the tenant's own young events stay
    // Another tenant without a retention setting keeps its old events.
    expect(await eventIds(other.tenantId)).toContain(othersOld.id);
    const bodies = await m.db.query<{ id: string; subject: string | null; body: string | null }>(
      'SELECT id, subject, body FROM messages WHERE tenant_id = $1',
      [t],
    );
    const byId = new Map(bodies.map((b) => [b.id, b]));
    expect(byId.get(sentOld)).toMatchObject({ subject: null, body: null });
    expect(byId.get(queuedOld)).toMatchObject({ subject: 'Offer', body: 'Hello' });
    expect(byId.get(sentNew)).toMatchObject({ subject: 'Offer', body: 'Hello' });
    expect(purged).toBe(2); // one event, one message body

    // Run again: nothing more is owed.
    expect(await purger().purge()).toBe(0);
  });
});
