import type { LoadResult } from './load';
import type { PgCounts } from './pg-proxy';
import type { ProfileSummary } from './cpu-profile';

/** The guard; the pass-through on our own Graph layer (HttpGraphClient + @azure/identity); the bare `node:http` one. */
export type Variant = 'guard' | 'passthrough' | 'bare';

/** CPU seconds used during one run, per process (postgres = the bench database's backends). */
export type CpuUse = Record<'api' | 'passthrough' | 'simulator' | 'postgres' | 'load', number> & {
  /** Absent in reports written before the bare pass-through was added. */
  bare?: number;
};

export interface Run {
  variant: Variant;
  round: number;
  load: LoadResult;
  cpu: CpuUse;
  /** Graph operations the simulator counted during the run. */
  graph: { reads: number; starts: number; harmfulStarts: number };
}

export interface Scenario {
  key: string;
  title: string;
  path: 'skip' | 'start';
  latencyMs: number;
  jobs: number;
  connections: number;
  durationSeconds: number;
  runs: Run[];
}

export interface RoundRatio {
  round: number;
  /** Against the client pass-through. */
  throughputRatio: number;
  addedP50Ms: number;
  addedP99Ms: number;
  cpuPerRequestRatio: number;
  /** Against the bare `node:http` pass-through (NaN when it was not measured). */
  bareThroughputRatio: number;
  bareAddedP50Ms: number;
  bareAddedP99Ms: number;
  bareCpuPerRequestRatio: number;
  /** The guard's CPU per decision: API process + PostgreSQL backends, ms. */
  guardCpuPerDecisionMs: number;
  guardApiCpuMs: number;
  guardPgCpuMs: number;
}

export interface DbWork {
  batches: {
    label: string;
    requests: number;
    statusCodes: Record<string, number>;
    counts: PgCounts;
    perRequest: number;
  }[];
  xactDelta: number | null;
  xactRequests: number;
}

export interface HotJob {
  replicas: number;
  latencyMs: number;
  oneJob: {
    requests: number;
    statusCodes: Record<string, number>;
    outcomes: Record<string, number>;
    rows: number;
    starts: number;
    reads: number;
    harmfulStarts: number;
    p50: number | null;
    p99: number | null;
    max: number | null;
  };
  distinct: {
    jobs: number;
    statusCodes: Record<string, number>;
    starts: number;
    rows: number;
    harmfulStarts: number;
    p50: number | null;
    p99: number | null;
  };
}

export interface Footprint {
  readyMs: number;
  rssIdleMb: number | null;
  rssPeakUnderLoadMb: number | null;
  passthroughRssIdleMb: number | null;
  passthroughRssPeakMb: number | null;
  bareRssIdleMb?: number | null;
  bareRssPeakMb?: number | null;
  replicaReadyMs: number[];
}

export interface Machine {
  nproc: number;
  cpuModel: string;
  node: string;
  postgres: string;
  loadAvgStart: number[];
  loadAvgEnd: number[];
  date: string;
  clkTck: number;
}

/** The Graph-compatible door next to /v1 on the same guard process, alternated (DESIGN section 2b). */
export interface DoorBench {
  latencyMs: number;
  paths: {
    path: 'skip' | 'start';
    rounds: { round: number; v1: LoadResult; door: LoadResult }[];
  }[];
}

export interface BenchReport {
  smoke: boolean;
  machine: Machine;
  settings: Record<string, string>;
  scenarios: Scenario[];
  dbWork: DbWork | null;
  hotJob: HotJob | null;
  footprint: Footprint | null;
  profile: { summary: ProfileSummary; file: string; requests: number; rps: number } | null;
  audit: { markdown: string } | { error: string } | { missing: string } | null;
  recovery: { result: Record<string, unknown> } | { error: string } | { missing: string } | null;
  door?: DoorBench | null;
  checks: { ok: boolean; what: string }[];
  wallSeconds: number;
}
