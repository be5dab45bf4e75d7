// Emmett's appendToStream on PostgreSQL, in-process (no HTTP, no auth, no rate limit): the peer
// of the ingest bench. Usage: node append.mjs <postgres-url> <clients> <seconds> <eventsPerAppend>
// Prints {"eventsPerSecond": n}. Each client appends to a stream of its own, Emmett's easy case.
import { getPostgreSQLEventStore } from '@event-driven-io/emmett-postgresql';

const [url, clients, seconds, perAppend] = process.argv.slice(2);
const store = getPostgreSQLEventStore(url, { schema: { autoMigration: 'CreateOrUpdate' } });

function events(client, n) {
  return Array.from({ length: n }, (_, i) => ({
    type: 'InvoicePaid',
    data: {
      subject: `invoice/inv_${client}_${i}`,
      actor: { type: 'service', id: 'billing' },
      amount: 1200 + (i % 100),
      currency: 'EUR',
      customer: `c_${i % 977}`,
      note: 'paid by card',
    },
  }));
}

await store.appendToStream('warm-up', events(0, 1)); // creates the schema outside the timing
let appended = 0;
const deadline = Date.now() + Number(seconds) * 1000;
const started = Date.now();
await Promise.all(
  Array.from({ length: Number(clients) }, async (_, client) => {
    while (Date.now() < deadline) {
      await store.appendToStream(`invoice-${client}`, events(client, Number(perAppend)));
      appended += Number(perAppend);
    }
  }),
);
const elapsed = (Date.now() - started) / 1000;
process.stdout.write(JSON.stringify({ eventsPerSecond: appended / elapsed }) + '\n');
await store.close();
