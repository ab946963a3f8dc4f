/** The settings every guard process gets on top of the required ones; reported as they are. */
export const GUARD_SETTINGS: Record<string, string> = {
  // The side-by-side runs send each job more requests than production's 5 per 300 s would let past (that
  // would measure refusals, not decisions): a 1 s window keeps each job's hit array as short as in production.
  RATE_LIMIT_PER_JOB: '1000',
  RATE_LIMIT_WINDOW_SECONDS: '1',
  // The start path re-pauses its jobs in the simulator before each run; without a cool-down the guard may
  // start them again (the hot-job replicas keep the default 600 s).
  START_COOLDOWN_SECONDS: '0',
  RECOVERY_ENABLED: 'false',
  // The notification dispatcher polls the database every second; the round-trip counts are the guard's alone
  // (`npm run bench:notifications` measures the dispatcher).
  NOTIFY_DISPATCH_ENABLED: 'false',
  // The bench refuses thousands of requests from one caller on purpose, and the hot job checks that every
  // refusal is recorded: the per-caller refusal limit (a flood guard) would store only the first 100 a minute.
  AUDIT_REFUSALS_PER_CALLER: '1000000',
  LOG_LEVEL: 'info',
};
