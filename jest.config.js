/** Type-checking is done once by `tsc --noEmit` in `npm test`, so ts-jest only transpiles. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // `.ts` first: bin/stepjobs.js (the npm launcher) must not shadow bin/stepjobs.ts in `import '../bin/stepjobs'`.
  moduleFileExtensions: ['ts', 'js', 'mjs', 'cjs', 'json', 'node'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { diagnostics: false }],
    // commander is ESM-only; the CLI tests load it in-process, and Jest's CommonJS runtime needs it compiled.
    '/node_modules/commander/.+\\.js$': ['ts-jest', { diagnostics: false, tsconfig: { allowJs: true } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!commander/)'],
  // shared/zod.ts imports zod's English messages by file (so a bundle carries no other locale); that file is
  // ES module only under that name, and Jest's CommonJS runtime needs zod's CommonJS build of it.
  moduleNameMapper: { '^zod/v4/locales/en\\.js$': '<rootDir>/node_modules/zod/v4/locales/en.cjs' },
  testTimeout: 60000,
  maxWorkers: 2,
};
