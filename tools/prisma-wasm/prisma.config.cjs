// Prisma 6 config for scripts/db-diff.js only: the WebAssembly schema engine ("js" engine) through the pg
// driver adapter, so `prisma migrate diff` needs no downloaded schema-engine binary. The diff itself is
// computed from schema files; the engine still wants a reachable PostgreSQL (PRISMA_WASM_DATABASE_URL).
const { defineConfig } = require('prisma/config');
const { PrismaPg } = require('@prisma/adapter-pg');

const connectionString =
  process.env.PRISMA_WASM_DATABASE_URL ??
  process.env.DATABASE_URL ??
  'postgresql://postgres@127.0.0.1:5432/postgres';

module.exports = defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  adapter: async () => new PrismaPg({ connectionString, allowExitOnIdle: true }),
});
