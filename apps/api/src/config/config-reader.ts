/** The environment reader behind loadConfig: typed values, one problem line each, secrets never shown. */

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export type Env = Record<string, string | undefined>;

const SECRET_KEYS = new Set([
  'AZURE_CLIENT_SECRET',
  'METRICS_TOKEN',
  'DATABASE_URL',
  'AUDIT_CURSOR_KEY',
  'NOTIFY_WEBHOOK_URL',
  'NOTIFY_WEBHOOK_SECRET',
]);

/** Reads typed values from the environment and collects one line per problem (secret values never shown). */
export class ConfigReader {
  readonly problems: string[] = [];
  constructor(private readonly env: Env) {}

  private raw(key: string): string | undefined {
    const v = this.env[key];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  }

  private shown(key: string, value: string): string {
    return SECRET_KEYS.has(key) ? '(hidden)' : JSON.stringify(value);
  }

  str(key: string): string | null {
    return this.raw(key) ?? null;
  }

  int(
    key: string,
    def: number,
    min: number,
    max = Number.MAX_SAFE_INTEGER,
    what = 'a positive integer',
  ): number {
    const v = this.raw(key);
    if (v === undefined) {
      return def;
    }
    if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) {
      this.problems.push(`${key} must be ${what}, got ${this.shown(key, v)}`);
      return def;
    }
    return Number(v);
  }

  bool(key: string, def: boolean): boolean {
    const v = this.raw(key);
    if (v === undefined) {
      return def;
    }
    if (/^(true|1|yes)$/i.test(v)) {
      return true;
    }
    if (/^(false|0|no)$/i.test(v)) {
      return false;
    }
    this.problems.push(`${key} must be true or false, got ${this.shown(key, v)}`);
    return def;
  }

  url(key: string, def: string | null, protocols = ['http:', 'https:']): string | null {
    const v = this.raw(key);
    if (v === undefined) {
      return def;
    }
    try {
      const u = new URL(v);
      if (!protocols.includes(u.protocol)) {
        throw new Error('protocol');
      }
      return v.replace(/\/+$/, '');
    } catch {
      this.problems.push(`${key} must be a URL (${protocols.join(' or ')}), got ${this.shown(key, v)}`);
      return def;
    }
  }

  oneOf<T extends string>(key: string, values: readonly T[], def: T): T {
    const v = this.raw(key);
    if (v === undefined) {
      return def;
    }
    if (!(values as readonly string[]).includes(v)) {
      this.problems.push(`${key} must be one of ${values.join(', ')}, got ${this.shown(key, v)}`);
      return def;
    }
    return v as T;
  }

  list(key: string, def: string[]): string[] {
    const v = this.raw(key);
    return v === undefined
      ? def
      : v
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s.length > 0);
  }
}
