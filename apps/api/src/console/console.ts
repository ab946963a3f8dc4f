import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { AppConfig } from '../config/app-config';
import type { HttpReply, HttpRequest } from '../http/http';
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

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/vnd.microsoft.icon',
  '.webp': 'image/webp',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

/** The file `relative` names under `root`, or null: no such file, a dotfile, or a path that leaves the root. */
async function fileUnder(root: string, relative: string): Promise<string | null> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(relative);
  } catch {
    return null;
  }
  const parts = decoded.split('/').filter((p) => p.length > 0);
  if (
    parts.length === 0 ||
    decoded.includes('\0') ||
    parts.some((p) => p.startsWith('.') || p.includes('\\'))
  ) {
    return null;
  }
  const file = resolve(root, ...parts);
  if (!file.startsWith(root + sep)) {
    return null;
  }
  try {
    return (await stat(file)).isFile() ? file : null;
  } catch {
    return null;
  }
}

async function sendFile(reply: HttpReply, file: string, cacheControl: string): Promise<void> {
  const body = await readFile(file);
  await reply
    .header('Cache-Control', cacheControl)
    .type(CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream')
    .send(body);
}

/** Whether the request takes HTML: no Accept header, or one listing text/html, text/* or any type with q > 0. */
function acceptsHtml(accept: string | undefined): boolean {
  if (accept === undefined || accept.trim() === '') {
    return true;
  }
  return accept.split(',').some((part) => {
    const [type = '', ...params] = part.split(';').map((p) => p.trim().toLowerCase());
    const q = params.find((p) => p.startsWith('q='));
    return ['text/html', 'text/*', '*/*'].includes(type) && (q === undefined || Number(q.slice(2)) > 0);
  });
}

/**
 * Serves the operator console at /console: the static build, `config.json`, and index.html for every other
 * path (client-side routes). The console holds no secrets and calls only the /v1 API with the user's token.
 */
export function registerConsole(
  instance: FastifyInstance,
  config: AppConfig,
  dir: string | null = consoleDir(),
): void {
  const csp = contentSecurityPolicy(config);
  const root = dir === null ? null : resolve(dir);
  const serve = async (req: HttpRequest, reply: HttpReply): Promise<void> => {
    void reply.header('Content-Security-Policy', csp);
    const path = (req.params as { '*'?: string })['*'] ?? '';
    const rest = path.split('?')[0] ?? '';
    if (rest === 'config.json') {
      await reply.header('Cache-Control', 'no-store').send(consoleRuntimeConfig(config));
      return;
    }
    if (root === null) {
      sendProblem(req, reply, 404, 'the console is not built: run `npm run build`');
      return;
    }
    if (rest === 'assets' || rest.startsWith('assets/')) {
      const asset = await fileUnder(join(root, 'assets'), rest.slice('assets'.length));
      if (asset === null) {
        sendProblem(req, reply, 404, 'no such console file');
        return;
      }
      await sendFile(reply, asset, 'public, max-age=31536000, immutable');
      return;
    }
    const file = await fileUnder(root, rest);
    if (file !== null) {
      await sendFile(reply, file, 'public, max-age=0');
      return;
    }
    if (!acceptsHtml(req.headers.accept)) {
      sendProblem(req, reply, 404, 'no such console file');
      return;
    }
    await sendFile(reply, join(root, 'index.html'), 'no-cache');
  };
  instance.get('/console', serve);
  instance.get('/console/*', serve);
}
