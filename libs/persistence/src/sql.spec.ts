import { firstRow, join, params, sql, trusted } from './sql';

describe('the sql tag', () => {
  it('turns every interpolated value into a numbered parameter, never into SQL text', () => {
    const name = "x'; DROP TABLE attempts; --";
    expect(sql`SELECT * FROM holds WHERE reason = ${name} AND id = ${7}`.toQuery()).toEqual({
      text: 'SELECT * FROM holds WHERE reason = $1 AND id = $2',
      values: [name, 7],
    });
  });

  it('splices fragments in and numbers their parameters in order', () => {
    const where = join([sql`a = ${1}`, sql`b = ${2}`, trusted('c IS NULL')], ' AND ');
    expect(sql`SELECT ${trusted('a, b')} FROM t WHERE ${where} LIMIT ${3}`.toQuery()).toEqual({
      text: 'SELECT a, b FROM t WHERE a = $1 AND b = $2 AND c IS NULL LIMIT $3',
      values: [1, 2, 3],
    });
    expect(sql`SELECT 1 ${sql``}`.toQuery()).toEqual({ text: 'SELECT 1 ', values: [] });
  });

  it('gives a named parameter one number however often, and wherever, it is used', () => {
    const p = params({ job: 'j', limit: 5 });
    const inner = sql`n < ${p.limit}`;
    expect(sql`${p.job} ${inner} ${p.job} ${p.limit} ${'other'}`.toQuery()).toEqual({
      text: '$1 n < $2 $1 $2 $3',
      values: ['j', 5, 'other'],
    });
  });

  it('renders the same statement to the same text every time (named prepared statements rely on it)', () => {
    const build = (v: number) => {
      const p = params({ a: v, b: v + 1 });
      return sql`SELECT ${p.a}, ${p.b}, ${p.a}`.toQuery().text;
    };
    expect(build(1)).toBe(build(99));
  });

  it('refuses to become text in a plain template string, where its parameters would be lost', () => {
    const fragment = sql`id = ${1}`;
    expect(() => String(fragment)).toThrow(/only be interpolated into sql/);
  });

  it('firstRow returns the first row, or names the statement that returned none', () => {
    expect(firstRow([{ n: 1 }], 'count')).toEqual({ n: 1 });
    expect(() => firstRow([], 'placing the hold')).toThrow('placing the hold returned no row');
  });
});
