// swc instead of ts-jest: Nest 12 ships ESM-only files that Jest on Node 20 must transform.
const swc = ['@swc/jest', { jsc: { parser: { syntax: 'typescript', decorators: true }, transform: { decoratorMetadata: true, legacyDecorator: true }, keepClassNames: true, target: 'es2022' }, module: { type: 'commonjs' } }];
const moduleNameMapper = {};
for (const lib of ['platform', 'security', 'identity', 'events', 'audit', 'webhooks', 'approvals', 'consent', 'messaging', 'people', 'console', 'schema']) {
  moduleNameMapper[`^@app/${lib}$`] = `<rootDir>/libs/${lib}/src`;
  moduleNameMapper[`^@app/${lib}/(.*)$`] = `<rootDir>/libs/${lib}/src/$1`;
}
module.exports = {
  rootDir: __dirname,
  moduleFileExtensions: ['ts', 'js', 'json'],
  transform: { '^.+\\.(t|j)s$': swc },
  // Nest 12 and standardwebhooks' @stablelib ship ESM-only files: transform those too.
  transformIgnorePatterns: ['/node_modules/(?!(@nestjs|@stablelib)/)'],
  moduleNameMapper,
  testEnvironment: 'node',
  // A loaded 2-core CI machine with coverage on runs the heavier unit tests several times slower.
  testTimeout: 30000,
  testMatch: ['<rootDir>/libs/**/*.spec.ts', '<rootDir>/apps/**/*.spec.ts'],
  // Coverage counts every source file, also those no unit test loads (they count as 0 %), so the
  // figure says how much of the code the unit tier covers, not how much of what it happened to load.
  collectCoverageFrom: [
    '<rootDir>/{apps,libs}/**/*.ts',
    '!**/*.spec.ts',
    '!**/index.ts',
    '!**/migrations/**',
    '!<rootDir>/apps/*/src/main.ts',
  ],
  coverageReporters: ['text-summary', 'json-summary'],
};
