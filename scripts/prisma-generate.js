#!/usr/bin/env node
'use strict';
/**
 * `npm run db:generate`: the Prisma client, generated offline. `prisma generate` never runs the schema engine
 * but wants its path: any existing file will do (this Node binary), so no engine is downloaded, on any OS.
 */
const { spawnSync } = require('node:child_process');
const { join } = require('node:path');

const root = join(__dirname, '..');
const cli = require.resolve('prisma/build/index.js', { paths: [root] });
const r = spawnSync(process.execPath, [cli, 'generate'], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: process.execPath },
});
process.exit(r.status ?? 1);
