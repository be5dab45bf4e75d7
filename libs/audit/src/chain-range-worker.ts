import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { CANONICAL_JSON_SOURCE } from './canonical-json';
import { ChainName } from './audit-entry';

export type RangeBreakReason =
  'hash_mismatch' | 'prev_hash_mismatch' | 'sequence_gap' | 'checkpoint_mismatch';

/** What a worker found in one seq range [from, to], checked as if the walk started at `from`. */
export interface RangeResult {
  from: number;
  to: number;
  /** prev_hash of the row at `from` (null when that row is missing): the seam to check. */
  firstPrev: string | null;
  /** hash of the last row checked intact. */
  lastHash: string | null;
  /** hash of the row at the head's seq, when it lies in this range. */
  hashAtHead: string | null;
  /** The first break in the range, except a broken link at `from` (only the caller can tell). */
  broke: { seq: number; reason: RangeBreakReason } | null;
}

interface WorkerSetup {
  dbUrl: string;
  pgPath: string;
  tenantId: string;
  chain: ChainName;
  headSeq: number;
  /** seq -> the hash a valid checkpoint signed there ('' for a checkpoint that does not verify). */
  checkpoints: [number, string][];
}

/**
 * The worker thread's code, plain JavaScript run with `eval` (so it runs the same from sources
 * under Jest and from dist/): it opens its own connection, reads each range it is given as raw
 * text (no Date or int8 parsing; timestamps formatted by PostgreSQL exactly as toISOString
 * writes them), recomputes every hash with the appender's canonical JSON and posts a RangeResult.
 * Its next range's query is already queued on the connection while it hashes the current one.
 */
const WORKER_SOURCE = String.raw`
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { Client } = require(workerData.pgPath);
${CANONICAL_JSON_SOURCE}
const raw = { getTypeParser: () => (v) => v };
const checkpoints = new Map(workerData.checkpoints);
const headSeq = workerData.headSeq;
const ISO = 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"';
const SQL = 'SELECT seq, chain, tenant_id, event_id, type, subject, actor, acting_as_tenant_id, data, ' +
  "to_char(occurred_at AT TIME ZONE 'UTC', '" + ISO + "'), to_char(recorded_at AT TIME ZONE 'UTC', '" + ISO + "'), " +
  'prev_hash, hash FROM audit_entries WHERE tenant_id = $1 AND chain = $2 AND seq >= $3 AND seq <= $4 ORDER BY seq';
const client = new Client({ connectionString: workerData.dbUrl, application_name: 'ledgerline-verify' });
const ready = client.connect();

function check(from, to, rows) {
  const out = { from, to, firstPrev: null, lastHash: null, hashAtHead: null, broke: null };
  let expected = from;
  let prev = null;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    const seq = Number(r[0]);
    if (seq !== expected) { out.broke = { seq: expected, reason: 'sequence_gap' }; return out; }
    const prevHash = r[11];
    const hash = r[12];
    if (prev === null) out.firstPrev = prevHash;
    else if (prevHash !== prev) { out.broke = { seq, reason: 'prev_hash_mismatch' }; return out; }
    const body = entryJcs({
      seq, chain: r[1], tenantId: r[2], eventId: r[3], type: r[4], subject: r[5],
      actor: JSON.parse(r[6]), actingAsTenantId: r[7], data: JSON.parse(r[8]),
      occurredAt: r[9], recordedAt: r[10],
    });
    const computed = createHash('sha256').update(Buffer.from(prevHash, 'hex')).update(body, 'utf8').digest('hex');
    if (computed !== hash) { out.broke = { seq, reason: 'hash_mismatch' }; return out; }
    const signed = checkpoints.get(seq);
    if (signed !== undefined && signed !== hash) { out.broke = { seq, reason: 'checkpoint_mismatch' }; return out; }
    if (seq === headSeq) out.hashAtHead = hash;
    out.lastHash = hash;
    prev = hash;
    expected++;
  }
  if (expected <= to) out.broke = { seq: expected, reason: 'sequence_gap' };
  return out;
}

parentPort.on('message', (msg) => {
  if (msg.stop) { client.end().finally(() => process.exit(0)); return; }
  ready
    .then(() => client.query({ text: SQL, values: [workerData.tenantId, workerData.chain, msg.from, msg.to], rowMode: 'array', types: raw }))
    .then((res) => parentPort.postMessage({ result: check(msg.from, msg.to, res.rows) }))
    .catch((err) => parentPort.postMessage({ error: String(err && err.message || err) }));
});
`;

/**
 * Seqs per range: at most 10,000 (a range's rows are held as text while hashed: about 10 MB per
 * range in flight; a break stops the work soon after it; progress moves), and at least 64 ranges
 * on smaller chains, so that every thread has several.
 */
export function rangeSize(upTo: number): number {
  return Math.max(1, Math.min(10000, Math.ceil(upTo / 64)));
}
/** Ranges queued on each worker's connection at once (one read ahead while one is hashed). */
const IN_FLIGHT_PER_WORKER = 2;

export function verifyThreads(configured: number): number {
  return configured > 0 ? configured : Math.min(4, availableParallelism());
}

/**
 * Checks seqs 1..upTo of a chain in ranges on `threads` worker threads and hands the results
 * back in seq order: `onRange` is called for each range once every range before it is in, and
 * returns false to stop (a break was found: nothing after it matters).
 */
export async function checkRangesInParallel(
  setup: WorkerSetup & { upTo: number; threads: number },
  onRange: (r: RangeResult) => boolean,
): Promise<void> {
  const size = rangeSize(setup.upTo);
  const ranges: [number, number][] = [];
  for (let from = 1; from <= setup.upTo; from += size) {
    ranges.push([from, Math.min(setup.upTo, from + size - 1)]);
  }
  const threads = Math.max(1, Math.min(setup.threads, ranges.length));
  const { upTo: _upTo, threads: _threads, ...workerData } = setup;
  const workers = Array.from(
    { length: threads },
    () => new Worker(WORKER_SOURCE, { eval: true, workerData: workerData satisfies WorkerSetup }),
  );
  const done = new Map<number, RangeResult>();
  let nextToSend = 0;
  let nextToReport = 0;
  let stopAfter = Number.MAX_SAFE_INTEGER; // index of the range with a break: none past it is sent
  try {
    await new Promise<void>((resolve, reject) => {
      const send = (w: Worker) => {
        if (nextToSend >= ranges.length || nextToSend > stopAfter) return false;
        const [from, to] = ranges[nextToSend++];
        w.postMessage({ from, to });
        return true;
      };
      const finished = () => nextToReport >= ranges.length || nextToReport > stopAfter;
      for (const w of workers) {
        for (let i = 0; i < IN_FLIGHT_PER_WORKER; i++) send(w);
        w.on('message', (msg: { result?: RangeResult; error?: string }) => {
          if (msg.error !== undefined) return reject(new Error(msg.error));
          const r = msg.result!;
          const index = Math.floor((r.from - 1) / size);
          done.set(index, r);
          if (r.broke) stopAfter = Math.min(stopAfter, index);
          while (done.has(nextToReport) && !finished()) {
            const next = done.get(nextToReport)!;
            done.delete(nextToReport);
            if (!onRange(next)) stopAfter = Math.min(stopAfter, nextToReport);
            nextToReport++;
          }
          if (finished()) return resolve();
          send(w);
        });
        w.on('error', reject);
        w.on('exit', (code) => {
          if (!finished()) reject(new Error(`verify worker exited with code ${code}`));
        });
      }
    });
  } finally {
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            w.once('exit', () => resolve());
            w.postMessage({ stop: true });
            // A worker stuck on a query is not waited for.
            setTimeout(() => void w.terminate().then(() => resolve()), 2000).unref();
          }),
      ),
    );
  }
}
