import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Client } from 'pg';
import {
  EmbeddedPostgresError,
  reachableByOthers,
  startEmbeddedPostgres,
} from '../../libs/persistence/src/embedded';

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

async function selectOne(url: string): Promise<number> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ one: number }>('SELECT 1 AS one');
    return rows[0]?.one ?? 0;
  } finally {
    await client.end();
  }
}

describe('embedded PostgreSQL (npm start without DATABASE_URL)', () => {
  // A checkout inside a directory only its owner can enter, like /root/<clone> in a container.
  const privateDir = mkdtempSync(join(tmpdir(), 'sjg-private-'));
  const dataDir = join(privateDir, 'clone', '.data', 'postgres');
  const stages: string[] = [];

  afterAll(() => {
    rmSync(privateDir, { recursive: true, force: true });
    for (const s of stages) {
      rmSync(s, { recursive: true, force: true });
    }
  });

  it('knows when other users cannot enter a directory', () => {
    expect(reachableByOthers(privateDir)).toBe(false); // mkdtemp makes it 0700
    expect(reachableByOthers(tmpdir())).toBe(true);
  });

  it('starts from a checkout other users cannot enter, restarts on the same data, and refuses a second instance', async () => {
    const first = await startEmbeddedPostgres({ dataDir });
    try {
      if (isRoot) {
        // PostgreSQL runs as "postgres": binaries and data moved where that user can reach them.
        expect(first.note).toMatch(/not reachable by the "postgres" user/);
        expect(first.dataDir.startsWith(privateDir)).toBe(false);
        stages.push(dirname(first.dataDir));
      } else {
        expect(first.dataDir).toBe(dataDir);
      }
      expect(await selectOne(first.adminUrl)).toBe(1);
      await selectOne(first.adminUrl).then(async () => {
        const c = new Client({ connectionString: first.adminUrl });
        await c.connect();
        await c.query('CREATE DATABASE kept');
        await c.end();
      });
      await expect(startEmbeddedPostgres({ dataDir })).rejects.toThrow(EmbeddedPostgresError);
      await expect(startEmbeddedPostgres({ dataDir })).rejects.toThrow(/another PostgreSQL \(pid \d+\)/);
    } finally {
      await first.stop();
    }
    const again = await startEmbeddedPostgres({ dataDir });
    try {
      expect(again.dataDir).toBe(first.dataDir);
      expect(await selectOne(again.urlFor('kept'))).toBe(1);
    } finally {
      await again.stop();
    }
  });
});
