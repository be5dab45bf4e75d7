const base = require('../jest.config.js');
module.exports = {
  ...base,
  rootDir: require('path').join(__dirname, '..'),
  testMatch: ['<rootDir>/test/**/*.e2e-spec.ts', '<rootDir>/test/faults/**/*.fault-spec.ts'],
  testTimeout: 120000,
  globalSetup: '<rootDir>/test/support/global-setup.js',
  globalTeardown: '<rootDir>/test/support/global-teardown.js',
};
