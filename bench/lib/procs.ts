import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** Child processes of the bench: spawned with a log file, stopped by their own pid only. */

export const CLK_TCK = ((): number => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

export interface Proc {
  name: string;
  child: ChildProcess;
  pid: number;
  startedAt: number;
  /** Everything the process printed on stdout so far (kept only until `keepOutput` is switched off). */
  output: () => string;
  exited: Promise<number | null>;
}

export function startProc(
  name: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  logFile: string,
  opts: { captureStdout?: boolean } = {},
): Proc {
  const startedAt = performance.now();
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const log = createWriteStream(logFile);
  let captured = '';
  let capturing = opts.captureStdout ?? true;
  child.stdout?.on('data', (chunk: Buffer) => {
    if (capturing) {
      captured += chunk.toString('utf8');
      if (captured.length > 65_536) {
        capturing = false;
      }
    }
    log.write(chunk);
  });
  child.stderr?.on('data', (chunk: Buffer) => log.write(chunk));
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      log.end();
      resolve(code);
    });
  });
  if (child.pid === undefined) {
    throw new Error(`${name} did not start`);
  }
  return { name, child, pid: child.pid, startedAt, output: () => captured, exited };
}

/** SIGTERM (or the given signal) to this one process; SIGKILL after `graceMs`. */
export async function stopProc(p: Proc, signal: NodeJS.Signals = 'SIGTERM', graceMs = 8000): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) {
    return;
  }
  p.child.kill(signal);
  const done = await Promise.race([p.exited.then(() => true), sleep(graceMs).then(() => false)]);
  if (!done) {
    p.child.kill('SIGKILL');
    await p.exited;
  }
}

export async function waitForOutput(p: Proc, pattern: RegExp, timeoutMs = 30_000): Promise<RegExpExecArray> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const m = pattern.exec(p.output());
    if (m) {
      return m;
    }
    if (p.child.exitCode !== null || Date.now() > until) {
      throw new Error(`${p.name} did not print ${String(pattern)} (exit ${String(p.child.exitCode)})`);
    }
    await sleep(20);
  }
}

/** Polls GET url until it answers 200; returns milliseconds since the process was spawned. */
export async function waitForHttp200(p: Proc, url: string, timeoutMs = 60_000): Promise<number> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.status === 200) {
        return performance.now() - p.startedAt;
      }
    } catch {
      // not listening yet
    }
    if (p.child.exitCode !== null || Date.now() > until) {
      throw new Error(`${p.name} never answered 200 on ${url} (exit ${String(p.child.exitCode)})`);
    }
    await sleep(10);
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** utime + stime of a process in seconds, or null when it is gone. */
export function cpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces: split after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state): utime is field 14, stime field 15.
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return null;
  }
}

/** Resident set size in MB (VmRSS), or null when the process is gone. */
export function rssMb(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** Samples the peak RSS of some processes until stopped. */
export function rssSampler(pids: number[], everyMs = 200): { stop(): Record<number, number> } {
  const peak: Record<number, number> = {};
  const sample = (): void => {
    for (const pid of pids) {
      const r = rssMb(pid);
      if (r !== null && r > (peak[pid] ?? 0)) {
        peak[pid] = r;
      }
    }
  };
  sample();
  const timer = setInterval(sample, everyMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return peak;
    },
  };
}
