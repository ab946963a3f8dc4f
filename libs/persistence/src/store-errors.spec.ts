import { DatabaseError } from 'pg';
import { Prisma } from './generated/prisma/client';
import { isStoreFailure, isUniqueViolation } from './store-errors';

const known = (code: string) =>
  new Prisma.PrismaClientKnownRequestError(`failed (${code})`, { code, clientVersion: 'test' });

describe('isStoreFailure', () => {
  it.each([
    ['Prisma: cannot reach the server (P1001)', known('P1001')],
    ['Prisma: a raw query failed (P2010)', known('P2010')],
    [
      'Prisma: unknown request error',
      new Prisma.PrismaClientUnknownRequestError('x', { clientVersion: 'test' }),
    ],
    ['Prisma: initialisation', new Prisma.PrismaClientInitializationError('x', 'test')],
    ['node-postgres: a server error (57P01)', new DatabaseError('terminating connection', 0, 'error')],
    ['a refused connection', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })],
    ['a lost connection', new Error('Connection terminated unexpectedly')],
    ['a pool timeout', new Error('timeout exceeded when trying to connect')],
  ])('%s → true', (_what, error) => {
    expect(isStoreFailure(error)).toBe(true);
  });

  it.each([
    ['a bug in our code', new TypeError('x is not a function')],
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
