/** One runner for every tier: *.spec.ts (unit), *.int-spec.ts (real PostgreSQL), *.e2e-spec.ts (HTTP). */
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
    },
    module: { type: 'commonjs' },
  },
];

const common = {
  rootDir: __dirname,
  testEnvironment: 'node',
  // Hooks start databases, simulators and apps; on a shared 2-core machine 5 s is not always enough.
  testTimeout: 20_000,
  transform: { '^.+\\.(t|m?j)s$': swc },
  // ESM-only packages are compiled to CommonJS for jest on Node 20 (the Kiota Graph SDK is used by e2e tests).
  transformIgnorePatterns: [
    '/node_modules/(?!(@nestjs|jose|@microsoft/(kiota-[a-z-]+|msgraph-sdk[a-z-]*))/)',
  ],
  moduleNameMapper: {
    '^@app/([^/]+)(|/.*)$': '<rootDir>/libs/$1/src$2',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  modulePathIgnorePatterns: ['<rootDir>/dist/', '<rootDir>/.data/'],
};

module.exports = {
  // testTimeout is a global option: inside `projects` jest ignores it (and falls back to 5 s).
  testTimeout: common.testTimeout,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs,bench,scripts}/**/*.spec.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/{apps,libs,test}/**/*.int-spec.ts'],
      globalSetup: '<rootDir>/test/global-setup.ts',
      globalTeardown: '<rootDir>/test/global-teardown.ts',
    },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/{apps,libs,test}/**/*.e2e-spec.ts'],
      globalSetup: '<rootDir>/test/global-setup.ts',
      globalTeardown: '<rootDir>/test/global-teardown.ts',
    },
  ],
};
