#!/usr/bin/env node
'use strict';
/**
 * After `npm ci`: generate the Prisma client (offline), then install the offline migration tools
 * (tools/prisma-wasm, Prisma 6's WebAssembly engine from the npm registry) that the schema drift tests and
 * `npm run db:diff` use. The tools are a development aid: when they cannot be installed (no registry, a
 * production install) the install goes on and says so; the drift tests then name the command to run.
 */
const { spawnSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const run = (args, opts = {}) =>
  spawnSync(npm, args, { cwd: root, stdio: 'inherit', shell: process.platform === 'win32', ...opts });

const generated = run(['run', 'db:generate']);
if (generated.status !== 0) {
  process.exit(generated.status ?? 1);
}

const tools = join(root, 'tools', 'prisma-wasm');
const wanted =
  process.env.NODE_ENV !== 'production' &&
  process.env.SJG_SKIP_TOOLS_INSTALL !== '1' &&
  existsSync(join(tools, 'package.json'));
const installed = existsSync(join(tools, 'node_modules', 'prisma', 'package.json'));
if (wanted && !installed) {
  const r = run(['run', 'tools:install']);
  if (r.status !== 0) {
    process.stderr.write(
      'warning: tools/prisma-wasm could not be installed; the schema drift tests need it: run `npm run tools:install`\n',
    );
  }
}
