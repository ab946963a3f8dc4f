import { DatabaseError } from 'pg';
import { Prisma } from './generated/prisma/client';

/** Socket-level failures of a connection to PostgreSQL (node-postgres passes Node's own error codes through). */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * PostgreSQL errors that mean the store itself failed, by SQLSTATE: connection exceptions (08), transaction
 * rollbacks from serialization or deadlock (40), insufficient resources (53), operator intervention such as a
 * shutdown or a cancelled/timed-out statement (57), system errors (58), the connection refused at login (28, a
 * database that is gone 3D000, or not accepting connections 55000), a lock not available (55P03) and an idle
 * transaction timed out (25P03). Anything else (a constraint, a type, a syntax error) is a bug in our SQL: 500.
 */
const STORE_SQLSTATE = /^(08|28|40|53|57|58)|^(3D000|55000|55P03|25P03)$/;

/** node-postgres' own messages when a connection cannot be had or is lost. */
const POOL_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Cannot use a pool after calling end|Connection ended unexpectedly/i;

/**
 * True when `error` is the store failing (PostgreSQL unreachable, a connection lost, the server shutting down,
 * a statement timed out), as thrown by the repositories through Prisma or node-postgres. The HTTP layer answers these with
 * 503 (fail closed); any other error is a bug and answers 500. Prisma's validation errors (a malformed query
 * built by our own code) are bugs, not store failures.
 */
export function isStoreFailure(error: unknown): boolean {
  if (
    error instanceof Prisma.PrismaClientKnownRequestError ||
    error instanceof Prisma.PrismaClientUnknownRequestError ||
    error instanceof Prisma.PrismaClientInitializationError ||
    error instanceof Prisma.PrismaClientRustPanicError
  ) {
    return true;
  }
  if (error instanceof DatabaseError) {
    return typeof error.code === 'string' && STORE_SQLSTATE.test(error.code);
  }
  if (!(error instanceof Error)) {
    return false;
  }
  const code = (error as Error & { code?: unknown }).code;
  return (typeof code === 'string' && NETWORK_CODES.has(code)) || POOL_MESSAGES.test(error.message);
}

/** True for Prisma's unique-constraint violation (P2002): repositories translate it into their own result. */
export function isUniqueViolation(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002';
}
