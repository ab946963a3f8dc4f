import { mkdtempSync, mkdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { linkLibraries } from './embedded';

describe('linkLibraries (the platform package’s library symlinks)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sjg-native-'));
    mkdirSync(join(dir, 'lib'));
    writeFileSync(join(dir, 'lib', 'libicuuc.so.60.2'), 'icu');
    writeFileSync(
      join(dir, 'pg-symlinks.json'),
      JSON.stringify([
        { source: 'native/lib/libicuuc.so.60.2', target: 'native/lib/libicuuc.so.60' },
        { source: 'native/lib/libicuuc.so.60.2', target: 'native/lib/libicuuc.so' },
        { source: 'native/lib/missing.so.1.0', target: 'native/lib/missing.so.1' },
      ]),
    );
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates each missing link, relative, and is idempotent', () => {
    linkLibraries(dir);
    linkLibraries(dir);
    expect(readlinkSync(join(dir, 'lib', 'libicuuc.so.60'))).toBe('libicuuc.so.60.2');
    expect(readFileSync(join(dir, 'lib', 'libicuuc.so'), 'utf8')).toBe('icu');
    // A link to a file the package does not have is not made.
    expect(() => readlinkSync(join(dir, 'lib', 'missing.so.1'))).toThrow();
  });

  it('does nothing without a list', () => {
    rmSync(join(dir, 'pg-symlinks.json'));
    expect(() => linkLibraries(dir)).not.toThrow();
    expect(() => readlinkSync(join(dir, 'lib', 'libicuuc.so.60'))).toThrow();
  });
});
