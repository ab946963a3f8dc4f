import { DatabaseError } from 'pg';
import { Prisma } from './generated/prisma/client';
import { isStoreFailure, isUniqueViolation } from './store-errors';

const known = (code: string) =>
  new Prisma.PrismaClientKnownRequestError(`failed (${code})`, { code, clientVersion: 'test' });

function pgError(code: string): DatabaseError {
  const e = new DatabaseError(`failed (${code})`, 0, 'error');
  e.code = code;
  return e;
}

describe('isStoreFailure', () => {
  it.each([
    ['Prisma: cannot reach the server (P1001)', known('P1001')],
    ['Prisma: a raw query failed (P2010)', known('P2010')],
    [
      'Prisma: unknown request error',
      new Prisma.PrismaClientUnknownRequestError('x', { clientVersion: 'test' }),
    ],
    ['Prisma: initialisation', new Prisma.PrismaClientInitializationError('x', 'test')],
    ['node-postgres: the server shuts down (57P01)', pgError('57P01')],
    ['node-postgres: a statement timed out (57014)', pgError('57014')],
    ['node-postgres: the connection failed (08006)', pgError('08006')],
    ['node-postgres: a deadlock (40P01)', pgError('40P01')],
    ['node-postgres: too many connections (53300)', pgError('53300')],
    ['node-postgres: an idle transaction timed out (25P03)', pgError('25P03')],
    ['node-postgres: the database refuses connections (55000)', pgError('55000')],
    ['node-postgres: the login is refused (28P01)', pgError('28P01')],
    ['a refused connection', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })],
    ['a lost connection', new Error('Connection terminated unexpectedly')],
    ['a pool timeout', new Error('timeout exceeded when trying to connect')],
  ])('%s → true', (_what, error) => {
    expect(isStoreFailure(error)).toBe(true);
  });

  it.each([
    ['a bug in our code', new TypeError('x is not a function')],
    ['SQL our code got wrong: invalid input (22P02)', pgError('22P02')],
    ['SQL our code got wrong: a unique violation (23505)', pgError('23505')],
    ['SQL our code got wrong: an undefined column (42703)', pgError('42703')],
    [
      'a query our code built wrong',
      new Prisma.PrismaClientValidationError('bad', { clientVersion: 'test' }),
    ],
    ['not an error', 'ECONNREFUSED'],
    ['nothing', undefined],
  ])('%s → false', (_what, error) => {
    expect(isStoreFailure(error)).toBe(false);
  });
});

describe('isUniqueViolation', () => {
  it('is P2002 only', () => {
    expect(isUniqueViolation(known('P2002'))).toBe(true);
    expect(isUniqueViolation(known('P2025'))).toBe(false);
    expect(isUniqueViolation(new Error('P2002'))).toBe(false);
  });
});
