import type { GraphOperation } from './graph-errors';

/** Structured logger (pino, Nest's Logger via an adapter...). Receives no tokens, headers or bodies. */
export interface GraphLogger {
  debug(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

export interface GraphExchangeInfo {
  operation: GraphOperation;
  /** HTTP status, or 'error' when no answer came (connection refused/reset, timeout). */
  status: number | 'error';
  durationMs: number;
}
