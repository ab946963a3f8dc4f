import * as http from 'node:http';
import * as https from 'node:https';
import * as zlib from 'node:zlib';
import type { AxiosAdapter } from 'axios';
import type { GraphAgents } from './timed-agent';

/**
 * One HTTP exchange with Graph over `node:http` / `node:https` and the client's keep-alive agents: no redirects
 * followed, any status resolved, the body read as text, a total timeout per exchange. A failure without an
 * answer is a GraphHttpFailure that says whether the whole request had been handed to the network.
 *
 * axios stays the Graph client's HTTP interface (GraphTransport); `graphHttpAdapter` is the adapter it sends
 * through. axios's own Node adapter (follow-redirects, its stream pipeline) cost about 70 µs of CPU more per
 * exchange (bench/graph-http.bench.ts).
 */

export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

export interface HttpExchange {
  method: 'GET' | 'POST';
  /** Relative to the base URL (ids already encoded), or absolute (a nextLink already checked for its origin). */
  url: string;
  headers: http.OutgoingHttpHeaders;
  body?: string | undefined;
  /** Total time for the exchange: connect, request and the whole answer. */
  timeoutMs: number;
}

/** No answer: the code (ECONNREFUSED, ECONNRESET, ETIMEDOUT, ECONNECT_TIMEOUT, ...) and whether it was sent. */
export class GraphHttpFailure extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
    readonly requestSent: boolean,
    readonly timedOut: boolean,
  ) {
    super(message);
    this.name = 'GraphHttpFailure';
  }
}

/** Answers larger than this are refused (a job, a page of jobs or a $batch of 20 is far below it). */
export const MAX_ANSWER_BYTES = 32 * 1024 * 1024;

interface Target {
  https: boolean;
  hostname: string;
  port: number | undefined;
  /** The base URL's path without its trailing slash ("/v1.0"). */
  basePath: string;
}

function target(url: URL): Target {
  return {
    https: url.protocol === 'https:',
    // A bracketed IPv6 literal is passed without its brackets.
    hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port === '' ? undefined : Number(url.port),
    basePath: url.pathname.replace(/\/+$/, ''),
  };
}

/** A compressed answer is refused when it would inflate past the same limit. */
const INFLATE_LIMIT = { maxOutputLength: MAX_ANSWER_BYTES };

function decode(body: Buffer, encoding: string | undefined): Buffer {
  switch (encoding?.trim().toLowerCase()) {
    case undefined:
    case '':
    case 'identity':
      return body;
    case 'gzip':
    case 'x-gzip':
      return zlib.gunzipSync(body, INFLATE_LIMIT);
    case 'deflate':
      return zlib.inflateSync(body, INFLATE_LIMIT);
    case 'br':
      return zlib.brotliDecompressSync(body, INFLATE_LIMIT);
    default:
      throw new Error(`unsupported content-encoding ${encoding ?? ''}`);
  }
}

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

export class GraphHttp {
  private readonly base: Target;

  constructor(
    baseUrl: string,
    private readonly agents: GraphAgents,
  ) {
    this.base = target(new URL(baseUrl));
  }

  exchange(x: HttpExchange): Promise<HttpAnswer> {
    const absolute = /^https?:\/\//i.test(x.url) ? new URL(x.url) : null;
    const t = absolute ? target(absolute) : this.base;
    const path = absolute ? absolute.pathname + absolute.search : t.basePath + x.url;
    const headers =
      x.body === undefined ? x.headers : { ...x.headers, 'Content-Length': Buffer.byteLength(x.body) };
    const options: http.RequestOptions = {
      method: x.method,
      hostname: t.hostname,
      path,
      headers,
      agent: t.https ? this.agents.https : this.agents.http,
    };
    if (t.port !== undefined) {
      options.port = t.port;
    }
    return new Promise<HttpAnswer>((resolve, reject) => {
      let settled = false;
      const req = t.https ? https.request(options) : http.request(options);
      const fail = (message: string, code: string | undefined, timedOut: boolean): void => {
        if (settled) {
          return;
        }
        settled = true;
        clearTimeout(timer);
        reject(new GraphHttpFailure(message, code, req.writableFinished, timedOut));
        req.destroy();
      };
      const timer = setTimeout(
        () => fail(`timeout of ${x.timeoutMs}ms exceeded`, 'ETIMEDOUT', true),
        x.timeoutMs,
      );
      req.on('error', (error) => {
        const code = codeOf(error);
        fail(error.message, code, code === 'ECONNECT_TIMEOUT');
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_ANSWER_BYTES) {
            fail(`the answer is larger than ${MAX_ANSWER_BYTES} bytes`, 'ERR_ANSWER_TOO_LARGE', false);
            return;
          }
          chunks.push(chunk);
        });
        res.on('error', (error) => fail(error.message, codeOf(error) ?? 'ECONNRESET', false));
        // Closed before its end (the connection dropped mid-answer): settled already when it ended.
        res.on('close', () =>
          fail('the connection closed before the whole answer came', 'ECONNRESET', false),
        );
        res.on('end', () => {
          if (settled) {
            return;
          }
          let text: string;
          try {
            const raw = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
            text = decode(raw, res.headers['content-encoding']).toString('utf8');
          } catch (error) {
            fail(error instanceof Error ? error.message : String(error), 'ERR_BAD_ANSWER', false);
            return;
          }
          settled = true;
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text });
        });
      });
      req.end(x.body);
    });
  }
}

/** The axios adapter over GraphHttp: the request as axios prepared it, the answer's body as text. */
export function graphHttpAdapter(graph: GraphHttp): AxiosAdapter {
  return async (config) => {
    const method = (config.method ?? 'get').toUpperCase();
    if (method !== 'GET' && method !== 'POST') {
      throw new GraphHttpFailure(`method ${method} is not sent to Graph`, 'ERR_METHOD', false, false);
    }
    const answer = await graph.exchange({
      method,
      url: config.url ?? '',
      headers: config.headers.toJSON(),
      body: typeof config.data === 'string' ? config.data : undefined,
      timeoutMs: config.timeout ?? 0,
    });
    return {
      data: answer.text,
      status: answer.status,
      statusText: '',
      headers: answer.headers,
      config,
      request: null,
    };
  };
}
