import type { FastifyReply, FastifyRequest } from 'fastify';

/** The HTTP request and reply every handler, guard and filter sees (Fastify's). */
export type HttpRequest = FastifyRequest;
export type HttpReply = FastifyReply;

/** The request's path without its query string, as sent (not decoded). */
export function pathOf(req: Pick<FastifyRequest, 'url'>): string {
  const q = req.url.indexOf('?');
  return q < 0 ? req.url : req.url.slice(0, q);
}
