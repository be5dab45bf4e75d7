const { existsSync } = require('node:fs');
const { join } = require('node:path');

// e2e tests run the built apps as real processes: build first (scripts/test.sh does).
module.exports = async () => {
  const root = join(__dirname, '..', '..');
  for (const app of ['api', 'worker', 'cli']) {
    if (!existsSync(join(root, `dist/apps/${app}/apps/${app}/src/main.js`))) {
      throw new Error(`dist for ${app} is missing: run npm run build first`);
    }
  }
};
