import { auditBenchMarkdown, runAuditBench } from './audit.bench';

/**
 * node --expose-gc -r ./bench/swc-register.js bench/run-audit.ts [--smoke] [--rows N]
 * Uses DATABASE_URL (an admin connection: a throwaway database is created and dropped), else the local server.
 */
async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const smoke = args.includes('--smoke');
  const rowsArg = args.indexOf('--rows');
  const rows = rowsArg >= 0 ? Number(args[rowsArg + 1]) : smoke ? 20_000 : 1_000_000;
  const result = await runAuditBench({ rows, smoke, log: (l) => console.error(l) });
  console.log(auditBenchMarkdown(result));
  if (args.includes('--json')) {
    console.log(JSON.stringify(result, null, 2));
  }
  console.error(`${result.checks.length} checks passed`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
