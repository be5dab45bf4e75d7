const { execFileSync } = require('node:child_process');
const { existsSync, readdirSync, statSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..', '..');
const APPS = ['api', 'worker', 'cli'];
const SOURCES = ['apps', 'libs', 'package-lock.json', 'tsconfig.json', 'nest-cli.json'];

/** Newest modification time under `path` (TypeScript sources and config files). */
function newest(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let latest = 0;
  for (const entry of readdirSync(path)) latest = Math.max(latest, newest(join(path, entry)));
  return latest;
}

const built = (app) => join(root, `dist/apps/${app}/apps/${app}/src/main.js`);

// e2e tests run the built apps as real processes: a missing or stale dist/ is rebuilt first, so
// a test never passes or fails against code that is no longer the source.
module.exports = async () => {
  const sources = Math.max(
    ...SOURCES.map((p) => join(root, p))
      .filter(existsSync)
      .map(newest),
  );
  const stale = APPS.some(
    (app) => !existsSync(built(app)) || statSync(built(app)).mtimeMs < sources,
  );
  if (!stale) return;
  process.stderr.write('\n[e2e] dist/ is older than the sources: npm run build\n');
  execFileSync('npm', ['run', '-s', 'build'], { cwd: root, stdio: 'inherit' });
};
