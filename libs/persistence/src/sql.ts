import type { QueryResultRow } from 'pg';

/**
 * The one way raw SQL is written in this library: the `sql` tagged template. Interpolated values always become
 * parameters (`$1`, `$2`, ...), never SQL text; SQL text is spliced in only as another `Sql` (a fragment built by
 * `sql`, `join`, or `trusted` for constant text such as a column list). `SqlRunner` runs the result: on the shared
 * pool (`PrismaService`), or on the connection of a transaction.
 *
 *   const p = params({ jobKey, limit });              // a named value used twice is one `$n`
 *   await db.query<Row>(sql`SELECT ... WHERE job_key = ${p.jobKey} AND n < ${p.limit} AND m < ${p.limit}`);
 */

/** A value that renders to one parameter number however often the statement names it. */
export class Param {
  constructor(readonly value: unknown) {}
}

type Part = string | Param | Sql;

/** SQL text and its parameters, composable: an `Sql` interpolated into another is spliced in. */
export class Sql {
  /** @internal use `sql`, `join` or `trusted` */
  constructor(readonly parts: readonly Part[]) {}

  /** PostgreSQL's form: text with `$n` placeholders, and the values in order. */
  toQuery(): { text: string; values: unknown[] } {
    const values: unknown[] = [];
    const numbers = new Map<Param, number>();
    const render = (s: Sql): string =>
      s.parts
        .map((part) => {
          if (typeof part === 'string') {
            return part;
          }
          if (part instanceof Sql) {
            return render(part);
          }
          let n = numbers.get(part);
          if (n === undefined) {
            values.push(part.value);
            n = values.length;
            numbers.set(part, n);
          }
          return `$${n}`;
        })
        .join('');
    return { text: render(this), values };
  }

  /** Guards against `${fragment}` in a plain string, which would lose its parameters. */
  toString(): string {
    throw new Error('an Sql fragment can only be interpolated into sql`...`');
  }
}

/** The tagged template: `${value}` is a parameter, `${Sql}` is spliced in, `${Param}` reuses its number. */
export function sql(strings: TemplateStringsArray, ...args: unknown[]): Sql {
  const parts: Part[] = [];
  strings.forEach((text, i) => {
    parts.push(text);
    if (i < args.length) {
      const arg = args[i];
      parts.push(arg instanceof Sql || arg instanceof Param ? arg : new Param(arg));
    }
  });
  return new Sql(parts);
}

/**
 * SQL text written by this library, never by a caller: column lists, outbox fragments, a constant LIMIT. Anything
 * that comes from outside goes in as a parameter instead.
 */
export function trusted(text: string): Sql {
  return new Sql([text]);
}

export function join(fragments: readonly Sql[], separator: string): Sql {
  const parts: Part[] = [];
  fragments.forEach((f, i) => {
    if (i > 0) {
      parts.push(separator);
    }
    parts.push(f);
  });
  return new Sql(parts);
}

/** Named parameters of one statement, built from one object: each key is one `$n`, however often it is used. */
export function params<T extends Record<string, unknown>>(values: T): { readonly [K in keyof T]: Param } {
  const out = {} as { [K in keyof T]: Param };
  for (const key of Object.keys(values) as (keyof T)[]) {
    out[key] = new Param(values[key]);
  }
  return out;
}

/** The first row of a statement that always returns one (an INSERT .. RETURNING); `what` names it in the error. */
export function firstRow<T>(rows: readonly T[], what: string): T {
  const row = rows[0];
  if (row === undefined) {
    throw new Error(`${what} returned no row`);
  }
  return row;
}

/** Runs `Sql`: on the shared pool, or inside a transaction. */
export interface SqlRunner {
  /**
   * The rows of one statement (one round trip). `name` makes it a named prepared statement, parsed and planned
   * once per connection: only for statements whose text never changes (the guard's hot path).
   */
  query<T extends QueryResultRow>(statement: Sql, name?: string): Promise<T[]>;
  /** How many rows one statement changed. */
  execute(statement: Sql): Promise<number>;
}
