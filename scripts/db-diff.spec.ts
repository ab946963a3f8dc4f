import { isEmptyDiff, migrationSuffix, nextTimestamp, parseArgs, toPrisma6Schema } from './db-diff';

const PRISMA7 = `// comment
generator client {
  provider     = "prisma-client"
  output       = "../libs/persistence/src/generated/prisma"
  moduleFormat = "cjs"
}

datasource db {
  provider = "postgresql"
}

model A {
  id Int @id
}
`;

describe('db-diff helpers', () => {
  it('turns a Prisma 7 schema into one Prisma 6 accepts: no generator, a url in the datasource', () => {
    const out = toPrisma6Schema(PRISMA7);
    expect(out).not.toContain('generator');
    expect(out).not.toContain('moduleFormat');
    expect(out).toContain(
      'datasource db {\n  provider = "postgresql"\n  url = env("PRISMA_WASM_DATABASE_URL")\n}',
    );
    expect(out).toContain('model A {\n  id Int @id\n}');
  });

  it('keeps a url that is already there and refuses a schema without exactly one datasource', () => {
    const withUrl = 'datasource db {\n  provider = "postgresql"\n  url = "postgresql://x"\n}\n';
    expect(toPrisma6Schema(withUrl)).toBe(withUrl);
    expect(() => toPrisma6Schema('model A {\n  id Int @id\n}\n')).toThrow(/one datasource block/);
  });

  it('dates a migration now, or one second after a newer existing migration', () => {
    const now = new Date(Date.UTC(2026, 10, 28, 16, 5, 9));
    expect(nextTimestamp(['20261128150000_init'], now)).toBe('20261128160509');
    expect(nextTimestamp(['20261128150000_init', '20261128170000_recovery_leader'], now)).toBe(
      '20261128170001',
    );
    expect(nextTimestamp(['20261231235959_x'], now)).toBe('20270101000000');
  });

  it('normalises migration names like Prisma and rejects empty ones', () => {
    expect(migrationSuffix('Add Leader-Note')).toBe('add_leader_note');
    expect(migrationSuffix('add_x')).toBe('add_x');
    expect(() => migrationSuffix('--')).toThrow(/invalid migration name/);
  });

  it('needs a name unless --from-empty, which then prints', () => {
    expect(() => parseArgs([])).toThrow(/name is required/);
    expect(() => parseArgs(['x', '--bogus'])).toThrow(/unknown option --bogus/);
    expect(parseArgs(['--from-empty'])).toMatchObject({ name: undefined, fromEmpty: true, print: true });
    expect(parseArgs(['add_x'])).toMatchObject({ name: 'add_x', fromEmpty: false, print: false });
    expect(parseArgs(['add_x', '--print'])).toMatchObject({ name: 'add_x', print: true });
  });

  it('recognises Prisma empty diff', () => {
    expect(isEmptyDiff('-- This is an empty migration.\n')).toBe(true);
    expect(isEmptyDiff('-- CreateIndex\nCREATE INDEX "i" ON "t"("c");\n')).toBe(false);
  });
});
