import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { sql } from '../support/sql';
import { type TestApp, type TestEnv, startApp, startTestEnv } from '../support/harness';

const SP = '6f2d1c3a-1b2c-4d5e-8f90-123456789abc';
const SP2 = '0b8c7d6e-5f4a-4b3c-9d2e-1f0a9b8c7d6e';
const T0 = Date.parse('2026-01-10T00:00:00.000Z');
const MINUTE = 60_000;

interface SeedRow {
  id?: string;
  createdAt: Date;
  sp?: string;
  job: string;
  trigger?: 'api' | 'recovery';
  actorType?: 'user' | 'app' | 'scheduler';
  actorId?: string;
  actorName?: string | null;
  outcome?: string;
  reason?: string | null;
  message?: string | null;
}

/** Attempts are written only by the guard: tests seed the table directly. */
async function seed(url: string, rows: SeedRow[]): Promise<string[]> {
  const records = rows.map((r) => ({
    id: r.id ?? randomUUID(),
    created_at: r.createdAt.toISOString(),
    sp: r.sp ?? SP,
    job: r.job,
    trigger: r.trigger ?? 'api',
    actor_type: r.actorType ?? 'user',
    actor_id: r.actorId ?? 'user-ada',
    actor_name: r.actorName === undefined ? 'Ada' : r.actorName,
    outcome: r.outcome ?? 'started',
    reason: r.reason ?? null,
    message: r.message === undefined ? 'done' : r.message,
  }));
  await sql(
    url,
    `WITH x AS (
       SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, created_at timestamptz, sp text, job text,
         trigger text, actor_type text, actor_id text, actor_name text, outcome text, reason text, message text)
     ),
     -- a decision in flight is a pending_attempts row until its finalise moves it into attempts
     pending AS (
       INSERT INTO pending_attempts (id, created_at, service_principal_id, job_id, trigger, actor_type, actor_id,
         actor_name, reason, replica_id)
       SELECT id, created_at, sp, job, trigger::"AttemptTrigger", actor_type::"ActorType", actor_id, actor_name,
         reason, 'seed'
       FROM x WHERE outcome = 'pending'
     )
     INSERT INTO attempts (id, created_at, finished_at, service_principal_id, job_id, trigger, actor_type, actor_id,
       actor_name, outcome, observed_status, reason, message, graph_request_ids, duration_ms, replica_id)
     SELECT id, created_at, created_at + interval '1 second',
       sp, job, trigger::"AttemptTrigger", actor_type::"ActorType", actor_id, actor_name, outcome::"AttemptOutcome",
       'paused', reason, message, ARRAY['g-1', 'g-2'], 12, 'seed'
     FROM x WHERE outcome <> 'pending'`,
    [JSON.stringify(records)],
  );
  return records.map((r) => r.id);
}

/** A small RFC 4180 reader, to check the export's quoting from the consumer's side. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') {
        quoted = false;
      } else {
        cell += c;
      }
    } else if (c === '"') {
      quoted = true;
    } else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else {
      cell += c;
    }
  }
  if (cell !== '' || row.length > 0) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}

describe('audit API over HTTP (GET /v1/attempts, /stats, /export, /:attemptId)', () => {
  let env: TestEnv;
  let app: TestApp;
  let readToken: string;
  const TRICKY_REASON = 'change 42, "urgent"\nsecond line\r\nthird, with \'quotes\'';
  let trickyId: string;
  let pagedJobIds: string[];

  const get = (path: string) => request(app.url).get(path).set('Authorization', `Bearer ${readToken}`);

  beforeAll(async () => {
    env = await startTestEnv();
    app = await startApp({ databaseUrl: env.db.url, issuer: env.issuer });
    readToken = await env.issuer.sign({ roles: ['JobControl.Read'] });
    const outcomes = ['started', 'skipped', 'denied', 'rate_limited'];
    // 40 rows of job.a across two actors and four outcomes, one minute apart.
    await seed(
      env.db.url,
      Array.from({ length: 40 }, (_, i) => ({
        createdAt: new Date(T0 + i * MINUTE),
        job: 'job.a',
        actorId: i % 2 === 0 ? 'user-ada' : 'user-bob',
        actorName: i % 2 === 0 ? 'Ada' : 'Bob',
        outcome: outcomes[i % 4],
      })),
    );
    // job.b under another service principal; the scheduler's recoveries; one pending row.
    await seed(env.db.url, [
      ...Array.from({ length: 6 }, (_, i) => ({
        createdAt: new Date(T0 + i * MINUTE + 30_000),
        sp: SP2,
        job: 'job.b',
        trigger: 'recovery' as const,
        actorType: 'scheduler' as const,
        actorId: 'replica-1',
        actorName: null,
        outcome: 'started',
      })),
      { createdAt: new Date(T0 + 100 * MINUTE), job: 'job.c', outcome: 'pending', message: null },
    ]);
    const tricky = await seed(env.db.url, [
      {
        createdAt: new Date(T0 + 200 * MINUTE),
        job: 'job.tricky',
        actorName: '=HYPERLINK("http://evil")',
        reason: TRICKY_REASON,
        outcome: 'skipped',
        message: 'job is active, "not started"',
      },
    ]);
    trickyId = tricky[0] ?? '';
    // 23 rows of job.paged, all within the same second in places: ties on created_at are ordered by id.
    pagedJobIds = await seed(
      env.db.url,
      Array.from({ length: 23 }, (_, i) => ({
        createdAt: new Date(T0 + 300 * MINUTE + Math.floor(i / 3) * 1000),
        job: 'job.paged',
      })),
    );
  });

  afterAll(async () => {
    await app.close();
    await env.close();
  });

  it('needs a token (401) and the Read role (403 for a Start-only token)', async () => {
    const none = await request(app.url).get('/v1/attempts').expect(401);
    expect(none.headers['www-authenticate']).toBe('Bearer');
    const startOnly = await env.issuer.sign({ roles: ['JobControl.Start'] });
    for (const path of [
      '/v1/attempts',
      '/v1/attempts/stats',
      '/v1/attempts/export',
      `/v1/attempts/${trickyId}`,
    ]) {
      const res = await request(app.url).get(path).set('Authorization', `Bearer ${startOnly}`).expect(403);
      expect(res.body.message).toMatch(/JobControl.Read/);
    }
    const admin = await env.issuer.sign({ roles: ['JobControl.Admin'] });
    await request(app.url).get('/v1/attempts').set('Authorization', `Bearer ${admin}`).expect(200);
  });

  it('lists newest first, 50 by default, with a next cursor', async () => {
    const res = await get('/v1/attempts').expect(200);
    expect(res.body.items).toHaveLength(50);
    expect(typeof res.body.nextCursor).toBe('string');
    const times = res.body.items.map((a: { createdAt: string }) => Date.parse(a.createdAt));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    expect(res.body.items[0]).toMatchObject({ jobId: 'job.paged', servicePrincipalId: SP, trigger: 'api' });
    const all = await get('/v1/attempts?limit=500').expect(200);
    expect(all.body.items).toHaveLength(40 + 6 + 1 + 1 + 23);
    expect(all.body.nextCursor).toBeNull();
  });

  it('filters by service principal and job, job alone, actor, trigger, outcomes and time', async () => {
    const byJob = await get(
      `/v1/attempts?servicePrincipalId=${SP.toUpperCase()}&jobId=job.a&limit=500`,
    ).expect(200);
    expect(byJob.body.items).toHaveLength(40);
    expect(new Set(byJob.body.items.map((a: { jobId: string }) => a.jobId))).toEqual(new Set(['job.a']));

    const jobAlone = await get('/v1/attempts?jobId=job.b').expect(200);
    expect(jobAlone.body.items).toHaveLength(6);
    expect(jobAlone.body.items[0]).toMatchObject({
      servicePrincipalId: SP2,
      trigger: 'recovery',
      actor: { type: 'scheduler', id: 'replica-1', name: null },
    });

    const bySp = await get(`/v1/attempts?servicePrincipalId=${SP2}`).expect(200);
    expect(bySp.body.items).toHaveLength(6);

    const byActor = await get('/v1/attempts?actor=user-bob&limit=500').expect(200);
    expect(byActor.body.items).toHaveLength(20);
    expect(byActor.body.items.every((a: { actor: { id: string } }) => a.actor.id === 'user-bob')).toBe(true);

    const recovery = await get('/v1/attempts?trigger=recovery').expect(200);
    expect(recovery.body.items).toHaveLength(6);

    const refused = await get(
      '/v1/attempts?jobId=job.a&outcome=denied&outcome=rate_limited&limit=500',
    ).expect(200);
    expect(refused.body.items).toHaveLength(20);
    expect(new Set(refused.body.items.map((a: { outcome: string }) => a.outcome))).toEqual(
      new Set(['denied', 'rate_limited']),
    );

    const pending = await get('/v1/attempts?outcome=pending').expect(200);
    expect(pending.body.items).toHaveLength(1);
    expect(pending.body.items[0]).toMatchObject({ jobId: 'job.c', outcome: 'pending', finishedAt: null });

    // from inclusive, to exclusive: minutes 10..19 of job.a.
    const from = new Date(T0 + 10 * MINUTE).toISOString();
    const to = new Date(T0 + 20 * MINUTE).toISOString();
    const range = await get(`/v1/attempts?jobId=job.a&from=${from}&to=${to}`).expect(200);
    expect(range.body.items).toHaveLength(10);
    expect(range.body.items[0].createdAt).toBe(new Date(T0 + 19 * MINUTE).toISOString());
    expect(range.body.items[9].createdAt).toBe(from);

    // An offset other than Z means the same instant.
    const shifted = await get(
      `/v1/attempts?jobId=job.a&from=${encodeURIComponent('2026-01-10T01:10:00+01:00')}&to=${to}`,
    ).expect(200);
    expect(shifted.body.items).toHaveLength(10);

    const combined = await get(`/v1/attempts?actor=user-ada&outcome=started&from=${from}&to=${to}`).expect(
      200,
    );
    expect(combined.body.items.map((a: { createdAt: string }) => a.createdAt)).toEqual([
      new Date(T0 + 16 * MINUTE).toISOString(),
      new Date(T0 + 12 * MINUTE).toISOString(),
    ]);
  });

  it('pages through every row of a job with no duplicate and no gap while new rows arrive between pages', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const path: string = `/v1/attempts?servicePrincipalId=${SP}&jobId=job.paged&limit=4${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const res = await get(path).expect(200);
      seen.push(...res.body.items.map((a: { attemptId: string }) => a.attemptId));
      cursor = res.body.nextCursor;
      pages++;
      // Newer attempts for the same job land while the auditor pages.
      await seed(env.db.url, [{ createdAt: new Date(), job: 'job.paged' }]);
    } while (cursor !== null);
    expect(pages).toBe(6);
    expect(seen).toHaveLength(23);
    expect(new Set(seen).size).toBe(23);
    expect(new Set(seen)).toEqual(new Set(pagedJobIds));
  });

  it('refuses forged, garbled and foreign cursors with 400 naming the cursor', async () => {
    const first = await get('/v1/attempts?jobId=job.a&limit=5').expect(200);
    const cursor: string = first.body.nextCursor;
    await get(`/v1/attempts?jobId=job.a&limit=5&cursor=${encodeURIComponent(cursor)}`).expect(200);
    // A different page size is fine: the cursor is bound to the filters, not to the limit.
    await get(`/v1/attempts?jobId=job.a&limit=7&cursor=${encodeURIComponent(cursor)}`).expect(200);

    const [version, payload, mac] = cursor.split('.') as [string, string, string];
    const decoded = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    const forgedPayload = Buffer.from(JSON.stringify({ ...decoded, t: '2030-01-01T00:00:00.000Z' })).toString(
      'base64url',
    );
    const flipped = mac.slice(0, -2) + (mac.endsWith('AA') ? 'BB' : 'AA');
    for (const bad of [
      `${version}.${forgedPayload}.${mac}`,
      `${version}.${payload}.${flipped}`,
      cursor.slice(0, -3),
      'garbage',
      `v2.${payload}.${mac}`,
      'x'.repeat(600),
    ]) {
      const res = await get(`/v1/attempts?jobId=job.a&limit=5&cursor=${encodeURIComponent(bad)}`).expect(400);
      expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request', code: 'INVALID_CURSOR' });
      expect(res.body.message).toMatch(/^cursor /);
    }
    // Reused with other filters.
    const other = await get(`/v1/attempts?jobId=job.b&limit=5&cursor=${encodeURIComponent(cursor)}`).expect(
      400,
    );
    expect(other.body.message).toMatch(/cursor/);
  });

  it.each([
    ['servicePrincipalId=not-a-guid', /^servicePrincipalId /],
    ['jobId=-bad', /^jobId /],
    ['outcome=exploded', /^outcome .*exploded/],
    ['outcome=started&outcome=nope', /^outcome /],
    ['actor=', /^actor /],
    ['trigger=cron', /^trigger /],
    ['from=yesterday', /^from /],
    ['from=2026-02-30', /^from /],
    ['to=2026-01-10T25:00:00Z', /^to /],
    ['to=2026-01-10T10:00:00', /^to /],
    ['from=2026-01-11&to=2026-01-10', /^from must not be after to/],
    ['limit=0', /^limit /],
    ['limit=501', /^limit /],
    ['limit=ten', /^limit /],
    ['limit=5&limit=6', /^limit /],
    ['jobId[x]=1', /^jobId /],
    ['cursor=', /^cursor /],
    ['color=blue', /query parameter "color" is not allowed/],
  ])('GET /v1/attempts?%s → 400 naming the parameter', async (qs, message) => {
    const res = await get(`/v1/attempts?${qs}`).expect(400);
    expect(res.body).toMatchObject({
      statusCode: 400,
      error: 'Bad Request',
      code: qs.startsWith('color=') ? 'UNKNOWN_QUERY_PARAMETER' : 'INVALID_INPUT',
    });
    expect(res.body.message).toMatch(message);
  });

  it('accepts an empty range (from = to) and answers an empty page', async () => {
    const res = await get('/v1/attempts?from=2026-01-10&to=2026-01-10').expect(200);
    expect(res.body).toEqual({ items: [], nextCursor: null });
  });

  it('returns one attempt by id: 400 for a malformed id, 404 for an unknown one', async () => {
    const one = await get(`/v1/attempts/${trickyId.toUpperCase()}`).expect(200);
    expect(one.body).toMatchObject({
      attemptId: trickyId,
      jobId: 'job.tricky',
      reason: TRICKY_REASON,
      outcome: 'skipped',
      graphRequestIds: ['g-1', 'g-2'],
      durationMs: 12,
      dryRun: false,
    });
    const bad = await get('/v1/attempts/not-a-uuid').expect(400);
    expect(bad.body.message).toMatch(/^attemptId /);
    const unknown = await get(`/v1/attempts/${randomUUID()}`).expect(404);
    expect(unknown.body).toMatchObject({ statusCode: 404, error: 'Not Found', code: 'ATTEMPT_NOT_FOUND' });
  });

  it('counts by outcome, and by job or actor on request', async () => {
    const all = await get('/v1/attempts/stats?jobId=job.a').expect(200);
    expect(all.body).toMatchObject({
      from: null,
      to: null,
      total: 40,
      groupBy: null,
      groups: [],
      byOutcome: { started: 10, skipped: 10, denied: 10, rate_limited: 10, pending: 0, unknown: 0 },
    });

    // "How many starts were refused in that window, for which jobs?"
    const to = new Date(T0 + 400 * MINUTE).toISOString();
    const refused = await get(
      `/v1/attempts/stats?from=2026-01-10&to=${to}&outcome=denied&outcome=rate_limited&groupBy=job&limit=5`,
    ).expect(200);
    expect(refused.body.total).toBe(20);
    expect(refused.body.from).toBe('2026-01-10T00:00:00.000Z');
    expect(refused.body.groups).toEqual([
      {
        servicePrincipalId: SP,
        jobId: 'job.a',
        total: 20,
        byOutcome: expect.objectContaining({ denied: 10, rate_limited: 10, started: 0 }),
      },
    ]);

    const byActor = await get('/v1/attempts/stats?groupBy=actor&limit=2').expect(200);
    expect(byActor.body.groups).toHaveLength(2);
    expect(byActor.body.groups[0]).toMatchObject({ actorId: 'user-ada', actorName: 'Ada' });
    // job.a's even rows, job.c, job.tricky, job.paged and the 6 rows the paging test added.
    expect(byActor.body.groups[0].total).toBe(20 + 1 + 1 + 23 + 6);
    expect(byActor.body.groups[1]).toMatchObject({ actorId: 'user-bob', total: 20 });

    const byJob = await get('/v1/attempts/stats?groupBy=job').expect(200);
    expect(byJob.body.groups.map((g: { jobId: string }) => g.jobId).slice(0, 2)).toEqual([
      'job.a',
      'job.paged',
    ]);

    for (const [qs, message] of [
      ['groupBy=day', /^groupBy /],
      ['limit=5', /^limit applies only with groupBy/],
      ['groupBy=job&limit=0', /^limit /],
      ['cursor=abc', /query parameter "cursor" is not allowed/],
      ['outcome=bad', /^outcome /],
    ] as const) {
      const res = await get(`/v1/attempts/stats?${qs}`).expect(400);
      expect(res.body.message).toMatch(message);
    }
  });

  it('exports NDJSON of every matching attempt, newest first, as an attachment', async () => {
    const res = await get('/v1/attempts/export?format=ndjson&jobId=job.a')
      .buffer(true)
      .parse((r, cb) => {
        let text = '';
        r.setEncoding('utf8');
        r.on('data', (c: string) => (text += c));
        r.on('end', () => cb(null, text));
      })
      .expect(200);
    expect(res.headers['content-type']).toMatch(/^application\/x-ndjson/);
    expect(res.headers['content-disposition']).toMatch(
      /^attachment; filename=attempts-\d{8}T\d{6}Z\.ndjson$/,
    );
    const lines = (res.body as string).split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(40);
    const parsed = lines.map((l) => JSON.parse(l));
    expect(parsed[0]).toMatchObject({ jobId: 'job.a', createdAt: new Date(T0 + 39 * MINUTE).toISOString() });
    expect(parsed[39].createdAt).toBe(new Date(T0).toISOString());

    const tricky = await get(`/v1/attempts/export?jobId=job.tricky`).buffer(true).expect(200);
    const row = JSON.parse(String(tricky.text).trim());
    expect(row.reason).toBe(TRICKY_REASON);
    const page = await get(`/v1/attempts/${trickyId}`).expect(200);
    expect(row).toEqual(page.body);
  });

  it('exports RFC 4180 CSV: header, CRLF, quoting of commas, quotes and newlines, formulas neutralised', async () => {
    const res = await get('/v1/attempts/export?format=csv&jobId=job.tricky').buffer(true).expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    expect(res.headers['content-disposition']).toMatch(/^attachment; filename=attempts-\d{8}T\d{6}Z\.csv$/);
    const text = String(res.text);
    expect(text.endsWith('\r\n')).toBe(true);
    expect(text).toContain('"change 42, ""urgent""\nsecond line\r\nthird, with \'quotes\'"');
    const rows = parseCsv(text);
    expect(rows).toHaveLength(2);
    const [header, data] = rows as [string[], string[]];
    expect(header[0]).toBe('attemptId');
    const record = Object.fromEntries(header.map((h, i) => [h, data[i]]));
    expect(record).toMatchObject({
      attemptId: trickyId,
      jobId: 'job.tricky',
      reason: TRICKY_REASON,
      actorName: `'=HYPERLINK("http://evil")`,
      message: 'job is active, "not started"',
      outcome: 'skipped',
      dryRun: 'false',
      graphRequestIds: 'g-1 g-2',
      retryAfterSeconds: '',
    });

    const all = await get('/v1/attempts/export?format=csv').buffer(true).expect(200);
    expect(parseCsv(String(all.text))).toHaveLength(1 + 40 + 6 + 1 + 1 + 23 + 6);

    const empty = await get('/v1/attempts/export?format=csv&jobId=nothing.here').buffer(true).expect(200);
    expect(String(empty.text)).toBe(`${header.join(',')}\r\n`);
  });

  it('refuses bad export parameters with 400 naming them', async () => {
    for (const [qs, message] of [
      ['format=xml', /^format /],
      ['limit=5', /query parameter "limit" is not allowed/],
      ['from=2026-13-01', /^from /],
    ] as const) {
      const res = await get(`/v1/attempts/export?${qs}`).expect(400);
      expect(res.headers['content-disposition']).toBeUndefined();
      expect(res.body.message).toMatch(message);
    }
  });

  it('documents the audit routes and the Attempt schema in /docs-json', async () => {
    const doc = (await request(app.url).get('/docs-json').expect(200)).body;
    for (const path of [
      '/v1/attempts',
      '/v1/attempts/stats',
      '/v1/attempts/export',
      '/v1/attempts/{attemptId}',
    ]) {
      expect(doc.paths[path]?.get?.tags).toEqual(['attempts']);
    }
    const params = doc.paths['/v1/attempts'].get.parameters.map((p: { name: string }) => p.name);
    expect(params).toEqual(
      expect.arrayContaining([
        'servicePrincipalId',
        'jobId',
        'outcome',
        'actor',
        'trigger',
        'from',
        'to',
        'limit',
        'cursor',
      ]),
    );
    expect(Object.keys(doc.components.schemas)).toEqual(
      expect.arrayContaining(['AttemptDto', 'AttemptPageDto', 'AttemptStatsDto']),
    );
    expect(doc.components.schemas.AttemptDto.properties.outcome.enum).toContain('rate_limited');
  });
});
