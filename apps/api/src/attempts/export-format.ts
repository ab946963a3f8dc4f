import { Transform, type TransformCallback } from 'node:stream';
import type { AttemptView } from '@app/common';

/** Output is handed to the socket in chunks of about this size: few writes, bounded memory. */
const CHUNK_CHARS = 64 * 1024;

export const CSV_COLUMNS = [
  'attemptId',
  'createdAt',
  'finishedAt',
  'servicePrincipalId',
  'jobId',
  'trigger',
  'actorType',
  'actorId',
  'actorName',
  'outcome',
  'observedStatus',
  'quarantineReason',
  'reason',
  'dryRun',
  'message',
  'retryAfterSeconds',
  'graphRequestIds',
  'durationMs',
  'wouldStart',
  'operation',
  'approvalId',
  'holdId',
  'resetScope',
  'requestedById',
] as const;

/**
 * One CSV field (RFC 4180): quoted when it holds a comma, a quote, CR or LF, with quotes doubled. Text that a
 * spreadsheet would read as a formula (starting with = + - @, tab or CR) is prefixed with ' so opening the
 * export never runs caller-supplied text (reasons, names and rejected ids come from callers).
 */
export function csvCell(value: string | number | boolean | null): string {
  if (value === null) {
    return '';
  }
  if (typeof value !== 'string') {
    return String(value);
  }
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvRow(a: AttemptView): string {
  const cells: (string | number | boolean | null)[] = [
    a.attemptId,
    a.createdAt,
    a.finishedAt,
    a.servicePrincipalId,
    a.jobId,
    a.trigger,
    a.actor.type,
    a.actor.id,
    a.actor.name,
    a.outcome,
    a.observedStatus,
    a.quarantineReason,
    a.reason,
    a.dryRun,
    a.message,
    a.retryAfterSeconds,
    a.graphRequestIds.join(' '),
    a.durationMs,
    a.wouldStart,
    a.operation,
    a.approvalId,
    a.holdId,
    a.resetScope.join(' '),
    a.requestedBy?.id ?? null,
  ];
  return `${cells.map(csvCell).join(',')}\r\n`;
}

/** Object-mode AttemptView in, text out, in ~64 KB chunks. */
abstract class Formatter extends Transform {
  private buffer: string;

  protected constructor(prologue: string) {
    super({ writableObjectMode: true, writableHighWaterMark: 1000 });
    this.buffer = prologue;
  }

  protected abstract line(attempt: AttemptView): string;

  override _transform(attempt: AttemptView, _enc: BufferEncoding, done: TransformCallback): void {
    this.buffer += this.line(attempt);
    if (this.buffer.length >= CHUNK_CHARS) {
      const chunk = this.buffer;
      this.buffer = '';
      done(null, chunk);
      return;
    }
    done();
  }

  override _flush(done: TransformCallback): void {
    const chunk = this.buffer;
    this.buffer = '';
    done(null, chunk.length > 0 ? chunk : undefined);
  }
}

/** One JSON Attempt per line (application/x-ndjson). */
export class NdjsonFormatter extends Formatter {
  constructor() {
    super('');
  }

  protected line(attempt: AttemptView): string {
    return `${JSON.stringify(attempt)}\n`;
  }
}

/** RFC 4180 CSV with a header row and CRLF line ends (text/csv). */
export class CsvFormatter extends Formatter {
  constructor() {
    super(`${CSV_COLUMNS.join(',')}\r\n`);
  }

  protected line(attempt: AttemptView): string {
    return csvRow(attempt);
  }
}
