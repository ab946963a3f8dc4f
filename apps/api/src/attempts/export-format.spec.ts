import { Readable } from 'node:stream';
import type { AttemptView } from '@app/common';
import { attemptView } from '../../../../test/support/fixtures';
import { CSV_COLUMNS, CsvFormatter, NdjsonFormatter, csvCell } from './export-format';

function attempt(over: Partial<AttemptView> = {}): AttemptView {
  return attemptView({
    attemptId: '6f2d1c3a-1b2c-4d5e-8f90-123456789abc',
    createdAt: '2026-11-28T16:00:00.000Z',
    finishedAt: null,
    servicePrincipalId: '0b8c7d6e-5f4a-4b3c-9d2e-1f0a9b8c7d6e',
    actor: { type: 'user', id: 'u1', name: 'Ada' },
    observedStatus: 'paused',
    message: 'started',
    graphRequestIds: ['a', 'b'],
    durationMs: 5,
    ...over,
  });
}

async function run(formatter: NdjsonFormatter | CsvFormatter, rows: AttemptView[]): Promise<string> {
  let out = '';
  const done = Readable.from(rows).pipe(formatter);
  for await (const chunk of done) {
    out += String(chunk);
  }
  return out;
}

describe('export formats', () => {
  it.each([
    ['plain', 'plain'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['line\nbreak', '"line\nbreak"'],
    ['cr\r\nlf', '"cr\r\nlf"'],
    ['=1+1', "'=1+1"],
    ['+SUM(A1)', "'+SUM(A1)"],
    ['-2', "'-2"],
    ['@cmd', "'@cmd"],
    ['=HYPERLINK("x","y")', `"'=HYPERLINK(""x"",""y"")"`],
    ['', ''],
  ])('csvCell(%j) is %j', (input, expected) => {
    expect(csvCell(input)).toBe(expected);
  });

  it('writes numbers, booleans and nulls as plain cells', () => {
    expect([csvCell(null), csvCell(12), csvCell(false)]).toEqual(['', '12', 'false']);
  });

  it('writes a header, one CRLF-terminated row per attempt, and only the header when empty', async () => {
    const csv = await run(new CsvFormatter(), [attempt(), attempt({ reason: 'x, "y"' })]);
    const lines = csv.split('\r\n');
    expect(lines[0]).toBe(CSV_COLUMNS.join(','));
    expect(lines[1]).toBe(
      '6f2d1c3a-1b2c-4d5e-8f90-123456789abc,2026-11-28T16:00:00.000Z,,0b8c7d6e-5f4a-4b3c-9d2e-1f0a9b8c7d6e,scim.1,api,user,u1,Ada,started,paused,,,false,started,,a b,5,,start,,,,',
    );
    expect(lines[2]).toContain(',"x, ""y""",');
    expect(lines).toHaveLength(4);
    expect(await run(new CsvFormatter(), [])).toBe(`${CSV_COLUMNS.join(',')}\r\n`);
  });

  it('writes one JSON attempt per line, in large chunks', async () => {
    const rows = Array.from({ length: 2000 }, (_, i) => attempt({ jobId: `scim.${i}` }));
    const chunks: string[] = [];
    for await (const c of Readable.from(rows).pipe(new NdjsonFormatter())) {
      chunks.push(String(c));
    }
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.length).toBeLessThan(20);
    const lines = chunks.join('').split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.map((l) => JSON.parse(l).jobId)).toEqual(rows.map((r) => r.jobId));
    expect(await run(new NdjsonFormatter(), [])).toBe('');
  });
});
