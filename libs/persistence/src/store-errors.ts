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

/** node-postgres' own messages when a connection cannot be had or is lost. */
const POOL_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Cannot use a pool after calling end|Connection ended unexpectedly/i;

/**
 * True when `error` is the store failing (PostgreSQL unreachable, a connection lost, a statement refused or
 * timed out), as thrown by the repositories through Prisma or node-postgres. The HTTP layer answers these with
 * 503 (fail closed); any other error is a bug and answers 500. Prisma's validation errors (a malformed query
 * built by our own code) are bugs, not store failures.
 */
export function isStoreFailure(error: unknown): boolean {
  if (
    error instanceof Prisma.PrismaClientKnownRequestError ||
    error instanceof Prisma.PrismaClientUnknownRequestError ||
    error instanceof Prisma.PrismaClientInitializationError ||
    error instanceof Prisma.PrismaClientRustPanicError ||
    error instanceof DatabaseError
  ) {
    return true;
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
