import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

/** Runs bench/load.js in its own process and returns its JSON result. */
export interface LoadResult {
  requests: number;
  seconds: number;
  rps: number;
  statusCodes: Record<string, number>;
  errors: number;
  timeouts: number;
  latencyMs: {
    p50: number | null;
    p90: number | null;
    p99: number | null;
    max: number | null;
    mean: number | null;
  };
  /** CPU the load generator itself used. */
  cpuSeconds: number;
}

export interface SustainedLoad {
  mode: 'sustained';
  origin: string;
  servicePrincipalId: string;
  jobCount: number;
  jobOffset?: number;
  connections: number;
  durationSeconds?: number;
  amount?: number;
  headers: Record<string, string>;
  /** Path prefix: `/v1` (default) or `/v1.0` (the Graph-compatible door). */
  prefix?: string;
}

export interface BurstLoad {
  mode: 'burst';
  origins: string[];
  servicePrincipalId: string;
  jobCount: number;
  count: number;
  headers: Record<string, string>;
}

const LOAD_SCRIPT = resolve(__dirname, '..', 'load.js');

export function runLoad(cfg: SustainedLoad | BurstLoad): Promise<LoadResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [LOAD_SCRIPT, JSON.stringify(cfg)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
    child.once('exit', (code) => {
      if (code !== 0) {
        reject(new Error(`load generator exited ${String(code)}: ${err.trim()}`));
        return;
      }
      try {
        resolvePromise(JSON.parse(out.trim().split('\n').pop() ?? '') as LoadResult);
      } catch (e) {
        reject(new Error(`load generator printed no result: ${String(e)} ${err.trim()}`));
      }
    });
  });
}
