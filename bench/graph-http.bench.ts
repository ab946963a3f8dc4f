import { ClientSecretCredential } from '@azure/identity';
import { resolve } from 'node:path';
import { DEMO_JOBS, DEMO_SERVICE_PRINCIPAL_ID, startGraphSimulator } from '../apps/graph-simulator/src';
import { HttpGraphClient } from '../libs/graph/src';

/**
 * CPU per Graph call pair (GET the job + POST start), client + in-process simulator, this tree's client against
 * another build's (dev aid): node -r ./bench/swc-register.js bench/graph-http.bench.ts <other dist> [N]
 */
type Client = Pick<HttpGraphClient, 'getJob' | 'startJob' | 'close'>;
type Ctor = new (o: ConstructorParameters<typeof HttpGraphClient>[0]) => Client;

async function main(): Promise<void> {
  const other = resolve(process.argv[2] ?? 'bench/results/dist-base');
  const n = Number(process.argv[3] ?? 3_000);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const base = require(`${other}/apps/api/libs/graph/src/index.js`) as Record<string, Ctor>;
  const sim = await startGraphSimulator({});
  const ref = { servicePrincipalId: DEMO_SERVICE_PRINCIPAL_ID, jobId: DEMO_JOBS.active };
  const make = (C: Ctor): Client =>
    new C({
      baseUrl: sim.graphBaseUrl,
      credential: new ClientSecretCredential(sim.tenantId, sim.clientId, sim.clientSecret, {
        authorityHost: sim.authorityHost,
        disableInstanceDiscovery: true,
        tlsOptions: { ca: sim.tlsCaCertificate },
      }),
    });
  const clients: [string, Client][] = [
    ['base', make((base.HttpGraphClient ?? base.AxiosGraphClient) as Ctor)],
    ['this tree', make(HttpGraphClient)],
  ];
  const one = async (c: Client): Promise<void> => {
    await c.getJob(ref);
    await c.startJob(ref);
  };
  const conc = 10;
  const burst = async (c: Client, count: number): Promise<void> => {
    let left = count;
    await Promise.all(
      Array.from({ length: conc }, async () => {
        while (left-- > 0) {
          await one(c);
        }
      }),
    );
  };
  for (const [, c] of clients) {
    await burst(c, 500);
  }
  const res: Record<string, number[]> = {};
  for (let round = 0; round < 8; round++) {
    const order = round % 2 === 0 ? clients : [...clients].reverse();
    for (const [name, c] of order) {
      const cpu0 = process.cpuUsage();
      await burst(c, n);
      const cpu = process.cpuUsage(cpu0);
      (res[name] ??= []).push((cpu.user + cpu.system) / n);
    }
  }
  for (const [name, xs] of Object.entries(res)) {
    const s = [...xs].sort((a, b) => a - b);
    process.stdout.write(
      `${name}: median ${((s[3]! + s[4]!) / 2).toFixed(1)} µs per GET+start pair (${s.map((x) => x.toFixed(0)).join(' ')})\n`,
    );
  }
  for (const [, c] of clients) {
    c.close();
  }
  await sim.close();
}

main().catch((e: unknown) => {
  process.stderr.write(`${String(e)}\n`);
  process.exit(1);
});
