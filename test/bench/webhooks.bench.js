// Webhook delivery: throughput to one healthy loopback receiver from one worker, isolation from a
// slow endpoint, publish→delivered latency. Baseline: raw keep-alive POSTs to the same receiver.
// Each run first warms up (the worker meets the endpoints), then drains a backlog with a fresh worker.
'use strict';
const http = require('node:http');
const { createHmac, randomBytes, randomUUID } = require('node:crypto');
const { request, Agent } = require('undici');
const {
  Stack,
  report,
  waitFor,
  sleep,
  sampleEvent,
  publishBatches,
  publishPaced,
  percentile,
} = require('./lib');

const EVENTS = Number(process.env.BENCH_WEBHOOK_EVENTS || 20000);
const WARM_UP = 200;

function receiver() {
  const seen = { healthy: 0, slow: 0, arrivals: [] };
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      if (req.url === '/slow') {
        seen.slow++;
        setTimeout(() => res.end('ok'), 5000);
        return;
      }
      if (req.url === '/raw') return res.end('ok');
      seen.healthy++;
      if (seen.track) seen.arrivals.push({ at: Date.now(), timestamp: JSON.parse(body).timestamp });
      res.end('ok');
    });
  });
  server.keepAliveTimeout = 60000;
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, seen, port: server.address().port })),
  );
}

/**
 * What a hand-written sender does at best: 64 keep-alive connections, each POST a fresh body
 * signed as Standard Webhooks signs (HMAC-SHA256 over id.timestamp.body).
 */
async function rawPosts(port, seconds) {
  const agent = new Agent({ connections: 64, keepAliveTimeout: 30000 });
  const secret = randomBytes(32);
  let n = 0;
  const deadline = Date.now() + seconds * 1000;
  const loop = async () => {
    while (Date.now() < deadline) {
      const id = randomUUID();
      const timestamp = Math.floor(Date.now() / 1000);
      const body = JSON.stringify({
        type: 'invoice.paid',
        timestamp: new Date().toISOString(),
        data: sampleEvent(n),
      });
      const signature = createHmac('sha256', secret)
        .update(`${id}.${timestamp}.${body}`)
        .digest('base64');
      const res = await request(`http://127.0.0.1:${port}/raw`, {
        method: 'POST',
        body,
        dispatcher: agent,
        headers: {
          'content-type': 'application/json',
          'webhook-id': id,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': `v1,${signature}`,
        },
      });
      await res.body.text();
      n++;
    }
  };
  const started = Date.now();
  await Promise.all(Array.from({ length: 64 }, loop));
  await agent.close();
  return n / ((Date.now() - started) / 1000);
}

async function createEndpoint(stack, url) {
  const res = await fetch(`${stack.baseUrl}/v1/webhooks/endpoints`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.tenant.apiKey}` },
    body: JSON.stringify({ url, eventTypes: ['invoice.*'] }),
  });
  if (res.status !== 201) throw new Error(`endpoint: ${res.status} ${await res.text()}`);
  return res.json();
}

/** Delivered per second to the healthy endpoint, measured between 10 % and 90 % of the run. */
async function deliveryRate(stack, seen, total) {
  const start = seen.healthy;
  await waitFor('10 %', async () => seen.healthy - start >= total * 0.1, 600000, 5);
  const t0 = Date.now();
  const c0 = seen.healthy;
  await waitFor('90 %', async () => seen.healthy - start >= total * 0.9, 600000, 5);
  return (seen.healthy - c0) / ((Date.now() - t0) / 1000);
}

async function run(withSlow, { latency: measureLatency = true, rawBefore = false } = {}) {
  const { server, seen, port } = await receiver();
  // The raw baseline is taken before and after the run (see main): drift weighs on both sides.
  // A first second warms the sender up (JIT, connections), as the warm-up does for Ledgerline.
  if (rawBefore) await rawPosts(port, 1);
  const before = rawBefore ? await rawPosts(port, 5) : null;
  const stack = await new Stack({ WEBHOOK_TIMEOUT_MS: '15000' }).start({ worker: false });
  try {
    await createEndpoint(stack, `http://127.0.0.1:${port}/healthy`);
    if (withSlow) await createEndpoint(stack, `http://127.0.0.1:${port}/slow`);
    // Warm-up: a first worker meets the endpoints (a slow one is then marked slow in PostgreSQL,
    // for every worker); the measured backlog is drained by a fresh worker.
    const warm = await stack.startWorker();
    await publishBatches(stack, WARM_UP, 100, 1);
    await waitFor('warm-up delivered', async () => seen.healthy >= WARM_UP, 60000);
    await sleep(2500);
    await stack.stopWorker(warm);
    await publishBatches(stack, EVENTS, 500, 4);
    await stack.startWorker();
    const rate = await deliveryRate(stack, seen, EVENTS);
    let latency = null;
    if (!withSlow && measureLatency) {
      await waitFor('all delivered', async () => seen.healthy >= WARM_UP + EVENTS, 600000);
      seen.track = true;
      await publishPaced(stack, 200, 10);
      await waitFor('paced delivered', async () => seen.arrivals.length >= 2000, 60000);
      latency = seen.arrivals.map((a) => a.at - Date.parse(a.timestamp)).sort((a, b) => a - b);
    }
    return { rate, latency, port, server, rawBefore: before };
  } finally {
    await stack.stop();
    if (withSlow) server.close();
  }
}

async function main() {
  const healthy = await run(false, { rawBefore: true });
  const rawAfter = await rawPosts(healthy.port, 5);
  healthy.server.close();
  const raw = (healthy.rawBefore + rawAfter) / 2;
  report('webhooks.throughput', healthy.rate, 'deliveries/s', raw, {
    events: EVENTS,
    rawBefore: Math.round(healthy.rawBefore),
    rawAfter: Math.round(rawAfter),
    baselineIs:
      'raw signed keep-alive POSTs to the same receiver, 64 concurrent: mean of 5 s before and 5 s after',
    target: 'ratio >= 0.5 and >= 1500/s',
  });
  report('webhooks.latency_p50', percentile(healthy.latency, 50), 'ms', null, {
    rate: '200 events/s',
  });
  report('webhooks.latency_p99', percentile(healthy.latency, 99), 'ms', null, {
    rate: '200 events/s',
    target: '< 300',
  });
  // Held in the median of three runs, each against a healthy-only run just before it.
  const ratios = [];
  for (let i = 0; i < 3; i++) {
    const alone = i === 0 ? healthy : await run(false, { latency: false });
    if (i > 0) alone.server.close();
    await sleep(500);
    const slow = await run(true);
    ratios.push({ ratio: slow.rate / alone.rate, slow: slow.rate, alone: alone.rate });
  }
  ratios.sort((a, b) => a.ratio - b.ratio);
  const median = ratios[1];
  report('webhooks.with_slow_endpoint', median.slow, 'deliveries/s', median.alone, {
    note: 'healthy endpoint while another answers after 5 s; baseline = same figure without it, median of three',
    ratios: ratios.map((r) => Math.round(r.ratio * 1000) / 1000),
    target: 'ratio >= 0.9',
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
