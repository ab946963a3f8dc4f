# syntax=docker/dockerfile:1
# Multi-stage build of Sync Job Guard. Everything comes from the npm registry: no binary is downloaded at
# install or run time (Prisma's client is generated offline, migrations are applied by our own runner).

# Node 22 LTS (Node 20 is past its end of life; package.json's engines still accept ^20.19 for development).
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json prisma.config.ts ./
COPY prisma ./prisma
COPY scripts/postinstall.js ./scripts/postinstall.js
COPY tools/stubs ./tools/stubs
RUN npm ci --no-audit --no-fund
COPY . .
# Builds the API, the simulator and the operator console (dist/console, served at /console).
RUN npm run build

FROM node:22-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json prisma.config.ts ./
COPY prisma ./prisma
# The lockfile links a development-only stub from tools/stubs; npm wants the folder even when it omits dev.
COPY tools/stubs ./tools/stubs
# Production dependencies only (no embedded PostgreSQL: it is a development dependency); the generated Prisma
# client travels inside dist/.
RUN npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# A 32 MB young generation (V8 default 16 MB): half the scavenges, half their time per request (see start:prod).
CMD ["node", "--max-semi-space-size=32", "dist/apps/api/apps/api/src/main.js"]
