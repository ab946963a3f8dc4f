import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';

/** Routes outside /v1 (health, metrics) need no Entra token: their operations carry `security: []`. */
const PUBLIC_PREFIXES = ['/health/', '/metrics'];

export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Sync Job Guard')
    .setDescription(
      'Guarded job control for Microsoft Entra ID provisioning (synchronization) jobs: a start is sent to Microsoft Graph only when the job is paused or in quarantine, once per job across every replica, and every attempt is recorded. Errors that are not attempts use one problem shape (ProblemDto); every response carries x-request-id.',
    )
    .setVersion('1')
    .addBearerAuth({
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
      description:
        'Entra ID access token (v2) for this API, with app roles JobControl.Read, JobControl.Start or JobControl.Admin',
    })
    .addSecurityRequirements('bearer')
    .build();
  const document = SwaggerModule.createDocument(app, config);
  for (const [path, item] of Object.entries(document.paths)) {
    if (PUBLIC_PREFIXES.some((p) => path.startsWith(p))) {
      for (const op of [item.get, item.post, item.put, item.patch, item.delete]) {
        if (op) {
          op.security = [];
        }
      }
    }
  }
  return document;
}

/** A copy with every object's keys sorted (arrays keep their order): the committed document's stable form. */
export function sortKeysDeep(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.map(sortKeysDeep);
  }
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(record)
        .sort()
        .map((k) => [k, sortKeysDeep(record[k])]),
    );
  }
  return value;
}

/** The committed form of the document (apps/api/openapi.json): sorted keys, two-space indent, final newline. */
export function serialiseOpenApi(document: OpenAPIObject): string {
  return `${JSON.stringify(sortKeysDeep(document), null, 2)}\n`;
}

/** GET /docs (UI) and GET /docs-json (document). */
export function setupOpenApi(app: INestApplication): void {
  SwaggerModule.setup('docs', app, () => buildOpenApiDocument(app), {
    jsonDocumentUrl: 'docs-json',
    raw: ['json'],
  });
}
