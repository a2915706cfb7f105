/** Jest runs the compiled ESM output (tsc -b), so tests exercise exactly the code that ships. */
export default {
  testEnvironment: 'node',
  transform: {},
  roots: ['<rootDir>/packages', '<rootDir>/test'],
  testMatch: ['<rootDir>/packages/*/dist/**/*.test.js', '<rootDir>/test/dist/**/*.test.js'],
  testTimeout: 30000,
  maxWorkers: 2,
  // integration suites share real servers; each creates its own databases, users and key prefixes
  verbose: false,
};
