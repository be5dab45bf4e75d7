#!/usr/bin/env node
// Standalone audit-chain verifier: an auditor can copy this file alone.
// Needs only Node's crypto and an RFC 8785 (JCS) library: `npm install canonicalize`.
//
//   node verify-chain.js [--threads N] export.ndjson [keys checkpoints.json]
//
// Recomputes every hash of a Ledgerline export (hash = SHA-256(32 raw bytes of prevHash ||
// UTF-8(JCS(entry without hash and prevHash)))), checks the links and seq 1..n, and, when given
// the keys and the checkpoints ({data: [...]} from GET /v1/audit/checkpoints), checks every
// Ed25519 checkpoint signature with the key its keyId names and that the chain matches each
// checkpoint. `keys` is either one PEM public key (GET /v1/audit/public-key) or the JSON of
// GET /v1/audit/public-keys ({data: [{keyId, publicKey}]}), for checkpoints from before and
// after a key rotation. A checkpoint without a keyId (signed before keyIds were recorded) may
// match any of the keys.
//
// Trust: this tool trusts exactly the keys it is given; whom to trust is the auditor's decision.
// Take them from a source the database owner cannot rewrite (keys published or recorded when they
// were first used, not a fresh copy read through the database), since whoever owns the database
// can list keys of their own. The service itself lists only keys it endorsed (sealed under its
// master key), but this tool cannot check endorsements: it never holds the master key.
//
// Speed: each entry's hash depends only on its own line, so a large export is cut into byte
// ranges at line ends and recomputed on worker threads (--threads, default one per core, at most
// 4); the links and seqs at the seams are checked here in file order, so the first break and its
// reason are the ones a line-by-line pass reports.
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const readline = require('node:readline');
const { Worker, isMainThread, parentPort, workerData } = require('node:worker_threads');
const jcsModule = require('canonicalize');
const jcs = typeof jcsModule === 'function' ? jcsModule : jcsModule.default;

function entryHash(entry) {
  const { hash: _hash, prevHash, ...rest } = entry;
  return crypto
    .createHash('sha256')
    .update(Buffer.from(prevHash, 'hex'))
    .update(jcs(rest), 'utf8')
    .digest('hex');
}

/** keyId: lowercase hex SHA-256 of the key's SPKI DER. */
function keyIdOf(key) {
  return crypto
    .createHash('sha256')
    .update(key.export({ type: 'spki', format: 'der' }))
    .digest('hex');
}

/** keyId -> public key, from one PEM or from {data: [{keyId, publicKey}]}. */
function loadKeys(keysFile) {
  const text = fs.readFileSync(keysFile, 'utf8');
  const pems = text.trimStart().startsWith('-----BEGIN')
    ? [text]
    : JSON.parse(text).data.map((k) => k.publicKey);
  const keys = new Map();
  for (const pem of pems) {
    const key = crypto.createPublicKey(pem);
    keys.set(keyIdOf(key), key);
  }
  return keys;
}

function signedBy(keys, keyId, payload, signature) {
  const candidates = keyId ? [keys.get(keyId)].filter(Boolean) : [...keys.values()];
  return candidates.some((key) => crypto.verify(null, payload, key, signature));
}

function loadCheckpoints(keysFile, checkpointsFile) {
  const checkpoints = new Map();
  if (!keysFile) return checkpoints;
  const keys = loadKeys(keysFile);
  const list = JSON.parse(fs.readFileSync(checkpointsFile, 'utf8'));
  for (const c of Array.isArray(list) ? list : list.data) {
    const payload = jcs({
      tenantId: c.tenantId,
      chain: c.chain,
      seq: c.seq,
      hash: c.hash,
      signedAt: c.signedAt,
    });
    const ok = signedBy(
      keys,
      c.keyId ?? null,
      Buffer.from(payload, 'utf8'),
      Buffer.from(c.signature, 'base64'),
    );
    checkpoints.set(c.seq, { hash: c.hash, ok });
  }
  return checkpoints;
}

/** Exports smaller than this are checked in one pass on this thread. */
const PARALLEL_FROM_BYTES = 4 * 1024 * 1024;
/** At least this many byte ranges per thread, of at most RANGE_BYTES each (memory stays flat). */
const RANGES_PER_THREAD = 4;
const RANGE_BYTES = 8 * 1024 * 1024;

async function verify(exportFile, keysFile, checkpointsFile, options = {}) {
  const checkpoints = loadCheckpoints(keysFile, checkpointsFile);
  const threads = options.threads || Math.min(4, os.availableParallelism());
  const { size } = fs.statSync(exportFile);
  if (size >= (options.parallelFromBytes ?? PARALLEL_FROM_BYTES)) {
    return verifyInParallel(exportFile, size, checkpoints, threads, options.ranges);
  }
  const lines = readline.createInterface({
    input: fs.createReadStream(exportFile),
    crlfDelay: Infinity,
  });
  let prevHash = '0'.repeat(64);
  let expected = 1;
  let entries = 0;
  for await (const line of lines) {
    if (!line.trim()) continue;
    const entry = JSON.parse(line);
    const fail = (reason) => ({ ok: false, entries, firstBreak: { seq: entry.seq, reason } });
    if (entry.seq !== expected)
      return { ok: false, entries, firstBreak: { seq: expected, reason: 'sequence_gap' } };
    entries++;
    // the link first: a changed prevHash alone is a broken link, not changed content
    if (entry.prevHash !== prevHash) return fail('prev_hash_mismatch');
    if (entryHash(entry) !== entry.hash) return fail('hash_mismatch');
    const c = checkpoints.get(entry.seq);
    if (c && (!c.ok || c.hash !== entry.hash)) return fail('checkpoint_mismatch');
    prevHash = entry.hash;
    expected++;
  }
  return { ok: true, entries, head: { seq: expected - 1, hash: prevHash } };
}

/** Byte offsets where ranges start: about equal parts, each moved to just after a line end. */
function rangeStarts(file, size, parts) {
  const fd = fs.openSync(file, 'r');
  const starts = [0];
  const buf = Buffer.alloc(64 * 1024);
  try {
    for (let i = 1; i < parts; i++) {
      let pos = Math.max(Math.floor((size * i) / parts), starts[starts.length - 1]);
      for (;;) {
        const n = fs.readSync(fd, buf, 0, buf.length, pos);
        if (n === 0) {
          pos = size;
          break;
        }
        const nl = buf.subarray(0, n).indexOf(10);
        if (nl >= 0) {
          pos += nl + 1;
          break;
        }
        pos += n;
      }
      if (pos < size && pos > starts[starts.length - 1]) starts.push(pos);
    }
  } finally {
    fs.closeSync(fd);
  }
  return starts;
}

/**
 * One byte range, checked as a line-by-line pass would from its first entry on. Its first line's
 * seq and prevHash are left to the caller (the seam), which knows what comes before.
 */
function checkRange(file, start, end, checkpoints) {
  const out = { first: null, lastSeq: null, lastHash: null, entries: 0, broke: null };
  const fd = fs.openSync(file, 'r');
  const text = Buffer.alloc(end - start);
  try {
    let off = 0;
    while (off < text.length) {
      const n = fs.readSync(fd, text, off, text.length - off, start + off);
      if (n === 0) break;
      off += n;
    }
  } finally {
    fs.closeSync(fd);
  }
  const lines = text.toString('utf8').split('\n');
  let prevHash = null;
  let expected = null;
  for (let line of lines) {
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (!line.trim()) continue;
    const entry = JSON.parse(line);
    const fail = (reason, seq = entry.seq) => {
      out.broke = { seq, reason, entries: out.entries };
      return out;
    };
    if (expected === null) {
      out.first = { seq: entry.seq, prevHash: entry.prevHash };
      if (typeof entry.seq !== 'number') return fail('sequence_gap', null);
    } else {
      if (entry.seq !== expected) return fail('sequence_gap', expected);
      if (entry.prevHash !== prevHash) {
        out.entries++;
        return fail('prev_hash_mismatch');
      }
    }
    out.entries++;
    if (entryHash(entry) !== entry.hash) return fail('hash_mismatch');
    const c = checkpoints.get(entry.seq);
    if (c && (!c.ok || c.hash !== entry.hash)) return fail('checkpoint_mismatch');
    prevHash = entry.hash;
    expected = entry.seq + 1;
    out.lastSeq = entry.seq;
    out.lastHash = entry.hash;
  }
  return out;
}

async function verifyInParallel(file, size, checkpoints, threads, rangeCount) {
  const starts = rangeStarts(
    file,
    size,
    rangeCount || Math.max(threads * RANGES_PER_THREAD, Math.ceil(size / RANGE_BYTES)),
  );
  const ranges = starts.map((s, i) => [s, i + 1 < starts.length ? starts[i + 1] : size]);
  const results = new Array(ranges.length);
  let next = 0;
  let stopAt = ranges.length; // no range after one with a break is started
  const cps = [...checkpoints];
  const runOn = (worker) =>
    new Promise((resolve, reject) => {
      const take = () => {
        if (next >= ranges.length || next > stopAt) return resolve();
        const index = next++;
        worker.once('message', (msg) => {
          // An unreadable line counts only if no break comes before it: kept in order.
          results[index] = msg.error ? { error: msg.error } : msg.result;
          if (msg.error || msg.result.broke) stopAt = Math.min(stopAt, index);
          take();
        });
        worker.postMessage({ file, start: ranges[index][0], end: ranges[index][1] });
      };
      worker.once('error', reject);
      take();
    });
  const workers = Array.from(
    { length: Math.min(threads, ranges.length) },
    () => new Worker(__filename, { workerData: { verifyChainRanges: true, checkpoints: cps } }),
  );
  try {
    await Promise.all(workers.map(runOn));
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  // The seams, in file order: each range's first entry must come right after the one before.
  let prevHash = '0'.repeat(64);
  let expected = 1;
  let entries = 0;
  for (const r of results) {
    if (!r) break; // only after a range with a break
    if (r.error) throw new Error(r.error);
    if (r.first === null) continue; // blank lines only
    if (r.first.seq !== expected) {
      return { ok: false, entries, firstBreak: { seq: expected, reason: 'sequence_gap' } };
    }
    if (r.first.prevHash !== prevHash) {
      return {
        ok: false,
        entries: entries + 1,
        firstBreak: { seq: expected, reason: 'prev_hash_mismatch' },
      };
    }
    if (r.broke) {
      return {
        ok: false,
        entries: entries + r.broke.entries,
        firstBreak: { seq: r.broke.seq, reason: r.broke.reason },
      };
    }
    entries += r.entries;
    expected = r.lastSeq + 1;
    prevHash = r.lastHash;
  }
  return { ok: true, entries, head: { seq: expected - 1, hash: prevHash } };
}

if (!isMainThread && workerData && workerData.verifyChainRanges) {
  const checkpoints = new Map(workerData.checkpoints);
  parentPort.on('message', ({ file, start, end }) => {
    try {
      parentPort.postMessage({ result: checkRange(file, start, end, checkpoints) });
    } catch (err) {
      parentPort.postMessage({ error: err.message });
    }
  });
}

module.exports = { verify, entryHash, keyIdOf };

if (isMainThread && require.main === module) {
  const args = process.argv.slice(2);
  const options = {};
  const t = args.indexOf('--threads');
  if (t >= 0) {
    options.threads = Number(args[t + 1]);
    args.splice(t, 2);
  }
  const [file, keys, checkpoints] = args;
  if (!file || (t >= 0 && !(options.threads >= 1))) {
    process.stderr.write(
      'usage: node verify-chain.js [--threads N] export.ndjson [keys checkpoints.json]\n',
    );
    process.exit(2);
  }
  verify(file, keys, checkpoints, options).then((result) => {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    process.exit(result.ok ? 0 : 1);
  });
}
