const { Stack, publishBatches, waitFor } = require('./lib');
const { spawn } = require('child_process');
(async () => {
  const stack = await new Stack().start({ worker: false });
  await publishBatches(stack, 50000, 500, 4);
  const t = Date.now();
  const child = spawn(process.execPath, ['--cpu-prof', '--cpu-prof-dir=/tmp/prof', '/work/main/dist/apps/worker/apps/worker/src/main.js'], { env: stack.env, stdio: 'inherit' });
  await waitFor('done', async () => { const [r] = await stack.query(`select seq from audit_chain_heads where tenant_id=$1`, [stack.tenant.tenantId]); return r && Number(r.seq) >= 50002; }, 300000, 100);
  console.log('append secs incl startup', (Date.now() - t) / 1000);
  child.kill('SIGTERM'); await new Promise(r => child.on('exit', r));
  await stack.stop();
})();
