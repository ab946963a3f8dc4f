import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { AppConfig } from '../config/app-config';
import { sendProblem } from '../http/problem';

/** Where `npm run build` writes the console: dist/console, seen from the sources and from the build output. */
const CANDIDATE_DIRS = [
  resolve(__dirname, '../../../../dist/console'),
  resolve(__dirname, '../../../../../../console'),
];

export function consoleDir(): string | null {
  return CANDIDATE_DIRS.find((d) => existsSync(join(d, 'index.html'))) ?? null;
}

/** What the console reads at start: how to sign in, and which service principals to list. */
export type ConsoleRuntimeConfig =
  | {
      auth: { mode: 'msal'; clientId: string; authority: string; apiScope: string };
      servicePrincipalIds: string[];
    }
  | {
      auth: { mode: 'dev'; identities: { role: string; name: string; token: string }[] };
      servicePrincipalIds: string[];
    }
  | { auth: { mode: 'none'; message: string }; servicePrincipalIds: string[] };

export function consoleRuntimeConfig(config: AppConfig): ConsoleRuntimeConfig {
  const c = config.console;
  const servicePrincipalIds = c.servicePrincipalIds;
  if (c.clientId !== null && c.apiScope !== null && c.authority !== null) {
    return {
      auth: { mode: 'msal', clientId: c.clientId, authority: c.authority, apiScope: c.apiScope },
      servicePrincipalIds,
    };
  }
  if (!config.production && c.devIdentities !== null) {
    return { auth: { mode: 'dev', identities: c.devIdentities }, servicePrincipalIds };
  }
  return {
    auth: {
      mode: 'none',
      message: 'Sign-in is not configured: set CONSOLE_CLIENT_ID and CONSOLE_API_SCOPE (see the README).',
    },
    servicePrincipalIds,
  };
}

/** The console's Content-Security-Policy: our own scripts only; MSAL may talk to the authority. */
function contentSecurityPolicy(config: AppConfig): string {
  const authority = config.console.authority === null ? '' : ` ${new URL(config.console.authority).origin}`;
  return [
    "default-src 'self'",
    "script-src 'self'",
    // Fluent UI (Griffel) inserts its styles at run time.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    `connect-src 'self'${authority}`,
    `frame-src 'self'${authority}`,
    "frame-ancestors 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "object-src 'none'",
  ].join('; ');
}

/**
 * Serves the operator console at /console: the static build, `config.json`, and index.html for every other
 * path (client-side routes). The console holds no secrets and calls only the /v1 API with the user's token.
 */
export function consoleRouter(config: AppConfig, dir: string | null = consoleDir()): Router {
  const router = express.Router();
  const csp = contentSecurityPolicy(config);
  router.use((_req: Request, res: Response, next: NextFunction) => {
    res.setHeader('Content-Security-Policy', csp);
    next();
  });
  router.get('/config.json', (_req: Request, res: Response) => {
    res.setHeader('Cache-Control', 'no-store');
    res.json(consoleRuntimeConfig(config));
  });
  if (dir === null) {
    router.use((req: Request, res: Response) =>
      sendProblem(req, res, 404, 'the console is not built: run `npm run build`'),
    );
    return router;
  }
  router.use(
    '/assets',
    express.static(join(dir, 'assets'), { immutable: true, maxAge: '365d', index: false }),
    (req: Request, res: Response) => sendProblem(req, res, 404, 'no such console file'),
  );
  router.use(express.static(dir, { index: false, maxAge: 0 }));
  router.get(/.*/, (req: Request, res: Response) => {
    if (!req.accepts('html')) {
      sendProblem(req, res, 404, 'no such console file');
      return;
    }
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(join(dir, 'index.html'));
  });
  return router;
}
