'use strict';
// Preloaded (-r) into the profiled API process only: SIGUSR2 exits normally, so `--cpu-prof` writes its file
// (Nest's shutdown hook re-raises SIGTERM, and a process killed by a signal writes no profile).
process.on('SIGUSR2', () => process.exit(0));
