#!/usr/bin/env node
'use strict';
/**
 * `npm run db:diff -- <name>`: writes prisma/migrations/<UTC yyyymmddhhmmss>_<name>/migration.sql with the SQL that
 * takes a database from the schema at git HEAD to the working-tree prisma/schema.prisma. Offline: Prisma 7's
 * migrate commands need a downloaded schema-engine binary, so the diff comes from Prisma 6's WebAssembly schema
 * engine, installed apart in tools/prisma-wasm (`npm ci --prefix tools/prisma-wasm`).
 *
 *   npm run db:diff -- add_x                  write a new migration folder
 *   npm run db:diff -- add_x --print          print the SQL instead
 *   npm run db:diff -- --from-empty           print the SQL of the whole schema (the drift check uses it)
 *
 * The engine wants a reachable PostgreSQL even for a file-only diff: PRISMA_WASM_DATABASE_URL, else DATABASE_URL,
 * else postgresql://postgres@127.0.0.1:5432/postgres. Nothing is written to that database.
 */
const { execFileSync, spawnSync } = require('node:child_process');
const {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} = require('node:fs');
const { tmpdir } = require('node:os');
const { join, relative, resolve } = require('node:path');

const ROOT = resolve(__dirname, '..');
const TOOL_DIR = join(ROOT, 'tools', 'prisma-wasm');
const PRISMA_CLI = join(TOOL_DIR, 'node_modules', 'prisma', 'build', 'index.js');
const ADAPTER = join(TOOL_DIR, 'node_modules', '@prisma', 'adapter-pg', 'package.json');
const PRISMA_CONFIG = join(TOOL_DIR, 'prisma.config.cjs');
const SCHEMA = join(ROOT, 'prisma', 'schema.prisma');
const MIGRATIONS = join(ROOT, 'prisma', 'migrations');
const SCHEMA_GIT_PATH = 'prisma/schema.prisma';
const MIGRATIONS_GIT_PATH = 'prisma/migrations';
const DEFAULT_URL = 'postgresql://postgres@127.0.0.1:5432/postgres';
const INSTALL_HINT = 'npm ci --prefix tools/prisma-wasm';
const EMPTY_MARKER = '-- This is an empty migration.';

const USAGE = `usage: npm run db:diff -- <name> [--print] [--from-empty] [--allow-empty] [--allow-uncommitted]
  <name>               migration name (letters, digits, _): writes prisma/migrations/<UTC timestamp>_<name>/migration.sql
  --print              print the SQL instead of writing it
  --from-empty         diff from the empty database instead of the schema at git HEAD (without <name>: print)
  --allow-empty        write the migration even when the schemas are equivalent (to hand-write SQL into it)
  --allow-uncommitted  proceed although prisma/migrations has folders that are not committed at HEAD`;

class UsageError extends Error {}

function parseArgs(argv) {
  const opts = {
    name: undefined,
    print: false,
    fromEmpty: false,
    allowEmpty: false,
    allowUncommitted: false,
  };
  for (const arg of argv) {
    if (arg === '--print') {
      opts.print = true;
    } else if (arg === '--from-empty') {
      opts.fromEmpty = true;
    } else if (arg === '--allow-empty') {
      opts.allowEmpty = true;
    } else if (arg === '--allow-uncommitted') {
      opts.allowUncommitted = true;
    } else if (arg === '--help' || arg === '-h') {
      opts.help = true;
    } else if (arg.startsWith('-')) {
      throw new UsageError(`unknown option ${arg}`);
    } else if (opts.name === undefined) {
      opts.name = arg;
    } else {
      throw new UsageError(`unexpected argument ${arg}`);
    }
  }
  if (opts.name === undefined && !opts.fromEmpty && !opts.help) {
    throw new UsageError('a migration name is required');
  }
  if (opts.name === undefined) {
    opts.print = true;
  }
  return opts;
}

/** Prisma-style folder suffix: lowercase, runs of other characters become one underscore. */
function migrationSuffix(name) {
  const suffix = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  if (suffix.length === 0 || suffix.length > 200) {
    throw new UsageError(`invalid migration name "${name}": use 1-200 letters, digits or underscores`);
  }
  return suffix;
}

function formatTimestamp(date) {
  const pad = (n) => String(n).padStart(2, '0');
  return (
    `${date.getUTCFullYear()}${pad(date.getUTCMonth() + 1)}${pad(date.getUTCDate())}` +
    `${pad(date.getUTCHours())}${pad(date.getUTCMinutes())}${pad(date.getUTCSeconds())}`
  );
}

function parseTimestamp(ts) {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(ts);
  if (!m) {
    return undefined;
  }
  const [, y, mo, d, h, mi, s] = m.map(Number);
  return new Date(Date.UTC(y, mo - 1, d, h, mi, s));
}

/**
 * The folder timestamp: now (UTC), or one second after the newest existing migration when that one is dated
 * later, so that migrations always apply in the order they were written.
 */
function nextTimestamp(existingFolders, now = new Date()) {
  let next = now;
  for (const folder of existingFolders) {
    const latest = parseTimestamp(folder.slice(0, 14));
    if (latest !== undefined && latest.getTime() >= next.getTime()) {
      next = new Date(latest.getTime() + 1000);
    }
  }
  return formatTimestamp(next);
}

/**
 * A copy of a Prisma 7 schema that Prisma 6 accepts: generator blocks removed (the diff needs none, and
 * Prisma 6 does not know every `prisma-client` option) and a `url` added to the datasource (Prisma 6
 * requires it, Prisma 7 forbids it).
 */
function toPrisma6Schema(source) {
  const withoutGenerators = source.replace(/^[ \t]*generator\s+\w+\s*\{[\s\S]*?^[ \t]*\}[ \t]*$/gm, '');
  let datasources = 0;
  const out = withoutGenerators.replace(
    /^([ \t]*datasource\s+\w+\s*\{)([\s\S]*?)(^[ \t]*\}[ \t]*$)/gm,
    (_all, open, body, close) => {
      datasources += 1;
      const hasUrl = /^\s*url\s*=/m.test(body);
      return hasUrl
        ? `${open}${body}${close}`
        : `${open}${body}  url = env("PRISMA_WASM_DATABASE_URL")\n${close}`;
    },
  );
  if (datasources !== 1) {
    throw new Error(`expected one datasource block in the schema, found ${datasources}`);
  }
  return out;
}

function git(args) {
  return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** The schema at git HEAD, or undefined when there is none (no commit yet, or the file is new). */
function headSchema() {
  try {
    return git(['show', `HEAD:${SCHEMA_GIT_PATH}`]);
  } catch {
    return undefined;
  }
}

/** Migration folders in the working tree that HEAD does not have: their changes may already be in schema.prisma. */
function uncommittedMigrations(folders) {
  let committed;
  try {
    committed = new Set(
      git(['ls-tree', '--name-only', 'HEAD', `${MIGRATIONS_GIT_PATH}/`])
        .split('\n')
        .filter(Boolean)
        .map((p) => p.slice(MIGRATIONS_GIT_PATH.length + 1)),
    );
  } catch {
    return [];
  }
  return folders.filter((f) => !committed.has(f));
}

function migrationFolders() {
  if (!existsSync(MIGRATIONS)) {
    return [];
  }
  return readdirSync(MIGRATIONS, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
}

function assertToolInstalled() {
  if (!existsSync(PRISMA_CLI) || !existsSync(ADAPTER)) {
    throw new Error(
      `tools/prisma-wasm is not installed (Prisma 6's WebAssembly schema engine for offline diffs).\n` +
        `Install it with:  ${INSTALL_HINT}`,
    );
  }
}

/** Runs `prisma migrate diff --script` through the WebAssembly engine; returns the SQL. */
function prismaDiff(fromSchemaSource, toSchemaSource) {
  assertToolInstalled();
  const dir = mkdtempSync(join(tmpdir(), 'sjg-db-diff-'));
  try {
    const args = [PRISMA_CLI, 'migrate', 'diff', '--config', PRISMA_CONFIG];
    if (fromSchemaSource === undefined) {
      args.push('--from-empty');
    } else {
      const from = join(dir, 'from.prisma');
      writeFileSync(from, toPrisma6Schema(fromSchemaSource));
      args.push('--from-schema-datamodel', from);
    }
    const to = join(dir, 'to.prisma');
    writeFileSync(to, toPrisma6Schema(toSchemaSource));
    args.push('--to-schema-datamodel', to, '--script');
    const url = process.env.PRISMA_WASM_DATABASE_URL || process.env.DATABASE_URL || DEFAULT_URL;
    const result = spawnSync(process.execPath, args, {
      cwd: TOOL_DIR,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      env: {
        ...process.env,
        PRISMA_WASM_DATABASE_URL: url,
        // Prisma 6 checks that a query-engine library exists although the diff never loads it.
        PRISMA_QUERY_ENGINE_LIBRARY: __filename,
        CHECKPOINT_DISABLE: '1',
        PRISMA_HIDE_UPDATE_MESSAGE: '1',
      },
    });
    if (result.error) {
      throw result.error;
    }
    if (result.status !== 0) {
      const detail = (result.stderr || '')
        .split('\n')
        .filter((l) => !l.startsWith('Loaded Prisma config'))
        .join('\n')
        .trim();
      const redacted = url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
      throw new Error(
        `prisma migrate diff failed (exit ${result.status}):\n${detail}\n` +
          `(the WebAssembly engine needs a reachable PostgreSQL, here ${redacted}; ` +
          `set PRISMA_WASM_DATABASE_URL or DATABASE_URL)`,
      );
    }
    return result.stdout.replace(/^\s+/, '').replace(/\s*$/, '\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function isEmptyDiff(sql) {
  return sql.trim() === '' || sql.trim() === EMPTY_MARKER;
}

function main(argv) {
  const opts = parseArgs(argv);
  if (opts.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const suffix = opts.name === undefined ? undefined : migrationSuffix(opts.name);
  const folders = migrationFolders();
  if (!opts.fromEmpty && !opts.allowUncommitted) {
    const pending = uncommittedMigrations(folders);
    if (pending.length > 0) {
      throw new Error(
        `prisma/migrations has folders that are not committed at HEAD: ${pending.join(', ')}.\n` +
          `The diff starts from the schema at HEAD, so the changes they make would be repeated. ` +
          `Commit them first, or pass --allow-uncommitted and review the SQL.`,
      );
    }
  }
  const from = opts.fromEmpty ? undefined : headSchema();
  if (!opts.fromEmpty && from === undefined) {
    process.stderr.write('no prisma/schema.prisma at git HEAD: diffing from the empty database\n');
  }
  const sql = prismaDiff(from, readFileSync(SCHEMA, 'utf8'));
  const empty = isEmptyDiff(sql);
  if (opts.print) {
    process.stdout.write(sql);
    return 0;
  }
  if (empty && !opts.allowEmpty) {
    process.stderr.write(
      'no changes: the working-tree schema.prisma gives the same database as the one at HEAD (nothing written; ' +
        '--allow-empty writes an empty migration for hand-written SQL)\n',
    );
    return 0;
  }
  const folder = `${nextTimestamp(folders)}_${suffix}`;
  const target = join(MIGRATIONS, folder);
  if (existsSync(target)) {
    throw new Error(`${relative(ROOT, target)} already exists`);
  }
  mkdirSync(target, { recursive: true });
  writeFileSync(join(target, 'migration.sql'), sql);
  process.stdout.write(
    `wrote ${relative(ROOT, join(target, 'migration.sql'))}\n` +
      'review it, then apply it to a development database: DATABASE_URL=… npm run db:migrate\n',
  );
  return 0;
}

if (require.main === module) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (error) {
    const usage = error instanceof UsageError;
    process.stderr.write(`db:diff: ${error instanceof Error ? error.message : String(error)}\n`);
    if (usage) {
      process.stderr.write(`${USAGE}\n`);
    }
    process.exitCode = usage ? 2 : 1;
  }
}

module.exports = { parseArgs, migrationSuffix, nextTimestamp, toPrisma6Schema, isEmptyDiff };
