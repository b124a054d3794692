# syntax=docker/dockerfile:1
# The PSS API image (docs/operations.md#deployment). One image, two processes:
#   the API     node dist/src/main.js     (the default command, health check on PORT /health/)
#   the worker  node dist/src/worker.js   (deploy/compose.yaml and render.yaml set this command; its
#                                          health check is WORKER_PORT /health/live/, set there)
# Build from the repository root: docker build -t pss-api .

# --- build: every dependency, TypeScript compiled, run-time files copied into dist/
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY migrations ./migrations
COPY src ./src
# The staff console (built by vite into dist/console).
COPY web ./web
RUN npm run build

# --- runtime: production dependencies and the build, nothing else
FROM node:20-bookworm-slim AS runtime
# NODE_ENV is for libraries and npm; the service itself reads APP_ENV.
ENV NODE_ENV=production \
    APP_ENV=production \
    HOST=0.0.0.0 \
    PORT=8000
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# The image's own user (uid 1000), never root. The service writes nothing to disk in production
# (PostgreSQL and Redis hold the state); DATA_DIR is only used by the embedded development database.
# The one exception is the worker's key backups (KEY_BACKUP_DIR, docs/privacy.md#key-backups): the
# directory exists in the image owned by that user, so a volume mounted there starts writable by it.
RUN mkdir -p /var/lib/pss/key-backups && chown -R node:node /var/lib/pss && chmod 700 /var/lib/pss/key-backups
USER node
EXPOSE 8000
# Liveness, not readiness: a database outage is answered with 503s and recovers by itself, it is no
# reason to replace the container. The image has no curl; Node's fetch does the probe.
HEALTHCHECK --interval=15s --timeout=5s --start-period=120s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8000) + '/health/').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/src/main.js"]
