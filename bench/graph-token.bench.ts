import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/identity';
import { ClientSecretCredential } from '@azure/identity';
import { DEMO_JOBS, DEMO_SERVICE_PRINCIPAL_ID, startGraphSimulator } from '../apps/graph-simulator/src';
import { HttpGraphClient } from '../libs/graph/src';

/**
 * CPU per Graph call with the token kept in the client, and with the credential asked on every call (dev aid):
 *   node -r ./bench/swc-register.js bench/graph-token.bench.ts [N]
 * "Asked on every call" wraps the same ClientSecretCredential so that each token it hands out is already due
 * for renewal: the client then calls getToken (msal-node's cache lookup) before every request, as it did
 * before it kept the token. The simulator runs in this process, so both rows include its CPU; the difference
 * is the cost of getToken per call. In-process CPU time (process.cpuUsage) holds up on a shared machine.
 */
class AskedEveryCall implements TokenCredential {
  constructor(private readonly inner: TokenCredential) {}

  async getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> {
    const token = await this.inner.getToken(scopes, options);
    return token === null ? null : { token: token.token, expiresOnTimestamp: Date.now() };
  }
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 5_000);
  const sim = await startGraphSimulator({});
  const ref = { servicePrincipalId: DEMO_SERVICE_PRINCIPAL_ID, jobId: DEMO_JOBS.active };
  try {
    const rows: string[] = [
      '| token | Graph GETs | CPU µs per call (client + in-process simulator) | wall µs per call |',
      '|---|---:|---:|---:|',
    ];
    for (const everyCall of [true, false, true, false]) {
      const credential = new ClientSecretCredential(sim.tenantId, sim.clientId, sim.clientSecret, {
        authorityHost: sim.authorityHost,
        disableInstanceDiscovery: true,
        tlsOptions: { ca: sim.tlsCaCertificate },
      });
      const client = new HttpGraphClient({
        baseUrl: sim.graphBaseUrl,
        credential: everyCall ? new AskedEveryCall(credential) : credential,
      });
      for (let i = 0; i < 300; i++) {
        await client.getJob(ref); // warm-up: token, sockets, JIT
      }
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      for (let i = 0; i < n; i++) {
        await client.getJob(ref);
      }
      const wall = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      client.close();
      rows.push(
        `| ${everyCall ? 'credential asked on every call' : 'kept in the client'} | ${n.toLocaleString('en-US')} | ${((cpu.user + cpu.system) / n).toFixed(1)} | ${((wall * 1000) / n).toFixed(1)} |`,
      );
    }
    process.stdout.write(`${rows.join('\n')}\n`);
  } finally {
    await sim.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`graph-token bench: ${String(error)}\n`);
  process.exit(1);
});
