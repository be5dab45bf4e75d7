const base = require('../jest.config.js');
// The medium tier: capability services in a Nest testing module on real PostgreSQL (no HTTP).
module.exports = {
  ...base,
  rootDir: require('path').join(__dirname, '..'),
  testMatch: ['<rootDir>/test/medium/**/*.medium-spec.ts'],
  testTimeout: 60000,
};
