import type * as http from 'node:http';
import { handleAdmin } from './admin-api';
import { handleGraph } from './graph-endpoint';
import type { SimContext } from './sim-context';
import { sendJson } from './sim-http';
import { handleToken, instanceDiscovery, openIdConfiguration } from './token-endpoint';

/** The simulator's one request handler: a path table over Graph, the token endpoint and the admin API. */

interface Incoming {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  path: string;
  query: URLSearchParams;
  /** The pattern's match on the path. */
  match: RegExpExecArray;
}

interface PathRoute {
  pattern: RegExp;
  /** Only this method; any when absent (a path that matches with another method falls through). */
  method?: string;
  handle(ctx: SimContext, x: Incoming): Promise<void> | void;
}

const ROUTES: PathRoute[] = [
  {
    pattern: /^\/(v1\.0|beta)(\/.*)$/,
    handle: (ctx, { req, res, match }) => handleGraph(ctx, req, res, match[1] ?? 'v1.0', match[2] ?? '/'),
  },
  {
    pattern: /^\/__sim\//,
    handle: (ctx, { req, res, path, query }) => handleAdmin(ctx, req, res, path, query),
  },
  {
    pattern: /^\/([^/]+)\/oauth2\/v2\.0\/token$/,
    method: 'POST',
    handle: (ctx, { req, res, match }) => handleToken(ctx, req, res, decodeURIComponent(match[1] ?? '')),
  },
  {
    pattern: /^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/,
    handle: (ctx, { req, res, match }) =>
      sendJson(res, 200, openIdConfiguration(ctx, req, decodeURIComponent(match[1] ?? ''))),
  },
  {
    pattern: /^\/([^/]+)\/discovery\/v2\.0\/keys$/,
    handle: (_ctx, { res }) => sendJson(res, 200, { keys: [] }),
  },
  {
    pattern: /^\/common\/discovery\/instance$/,
    handle: (ctx, { req, res }) => sendJson(res, 200, instanceDiscovery(ctx, req)),
  },
  {
    pattern: /^\/(__sim)?$/,
    handle: (ctx, { res }) =>
      sendJson(res, 200, {
        name: 'graph-simulator',
        graphBaseUrl: `${ctx.origin}/v1.0`,
        authorityHost: ctx.origin.replace(/^http:/, 'https:'),
        tenantId: ctx.tenantId,
        clientId: ctx.clientId,
      }),
  },
];

async function route(ctx: SimContext, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  const query = new URLSearchParams(q === -1 ? '' : url.slice(q + 1));
  for (const entry of ROUTES) {
    const match = entry.pattern.exec(path);
    if (match && (entry.method === undefined || entry.method === req.method)) {
      return entry.handle(ctx, { req, res, path, query, match });
    }
  }
  req.resume();
  sendJson(res, 404, {
    error: { code: 'NotFound', message: `No route for ${req.method ?? ''} ${path}` },
  });
}

/** The request handler of both the HTTP and the HTTPS side: a failure answers 500 (or drops the socket). */
export function createHandler(
  ctx: SimContext,
): (req: http.IncomingMessage, res: http.ServerResponse) => void {
  return (req, res) => {
    route(ctx, req, res).catch((error: unknown) => {
      if (!res.headersSent) {
        sendJson(res, 500, {
          error: {
            code: 'InternalServerError',
            message: error instanceof Error ? error.message : String(error),
          },
        });
      } else {
        res.destroy();
      }
    });
  };
}
