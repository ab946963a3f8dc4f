import { startDevIssuer } from '../apps/api/src/dev/dev-issuer';
import { TokenVerifier } from '../apps/api/src/auth/token-verifier';

/**
 * CPU per verification of one caller's token, with the verified-token cache and without it (dev aid):
 *   node -r ./bench/swc-register.js bench/token-verify.bench.ts [N]
 * In-process CPU time (process.cpuUsage) is what a request pays for authentication, whatever else the
 * machine does; the end-to-end runs of `npm run bench` are too noisy on a shared machine to show 0.1 ms.
 */
async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 20_000);
  const issuer = await startDevIssuer();
  try {
    const token = await issuer.sign({ roles: ['JobControl.Start'], name: 'Bench caller', expiresIn: 3600 });
    const options = {
      issuer: issuer.issuer,
      audience: issuer.audience,
      jwksUri: issuer.jwksUri,
      clockToleranceSeconds: 60,
    };
    const rows: string[] = [
      '| verifier | verifications | CPU µs per verification | wall µs per verification |',
      '|---|---:|---:|---:|',
    ];
    for (const [label, cache] of [
      ['every token verified (RS256)', false],
      ['cached (SHA-256 lookup)', undefined],
      ['every token verified (RS256)', false],
      ['cached (SHA-256 lookup)', undefined],
    ] as const) {
      const v = new TokenVerifier({ ...options, ...(cache === false ? { cache: false as const } : {}) });
      for (let i = 0; i < 500; i++) {
        await v.verify(token); // warm-up: JWKS fetch, JIT
      }
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      for (let i = 0; i < n; i++) {
        await v.verify(token);
      }
      const wall = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      rows.push(
        `| ${label} | ${n.toLocaleString('en-US')} | ${((cpu.user + cpu.system) / n).toFixed(1)} | ${((wall * 1000) / n).toFixed(1)} |`,
      );
    }
    process.stdout.write(`${rows.join('\n')}\n`);
  } finally {
    await issuer.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`token-verify bench: ${String(error)}\n`);
  process.exit(1);
});
