import { ADMIN_URL_ENV, TEMPLATE_ENV, adminQuery } from './support/database';

export default async function globalTeardown(): Promise<void> {
  const adminUrl = process.env[ADMIN_URL_ENV];
  const template = process.env[TEMPLATE_ENV];
  if (adminUrl && template) {
    await adminQuery(adminUrl, `DROP DATABASE IF EXISTS "${template}" WITH (FORCE)`).catch(() => undefined);
  }
  const embedded = (globalThis as { __SJG_EMBEDDED__?: { stop(): Promise<void> } }).__SJG_EMBEDDED__;
  if (embedded) {
    await embedded.stop();
  }
}
