# syntax=docker/dockerfile:1
# One image per Portrait service, chosen with the APP build argument:
#   docker build --build-arg APP=ingestor -t portrait/ingestor .
# APP: ingestor | feature-aggregator | trainer | profile-publisher
# (docker-compose.yml builds all four.)

############################ build ############################
FROM node:20-bookworm-slim AS build
WORKDIR /app
ENV CI=true NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false

# Dependencies first: this layer is reused until package*.json change.
COPY package.json package-lock.json ./
RUN npm ci

COPY . .
RUN npm run build \
 && npm prune --omit=dev

# Fail the build early if the chosen app has no compiled entry point.
ARG APP=ingestor
RUN test -f "dist/apps/${APP}/main.js" || test -f "dist/apps/${APP}/src/main.js" \
 || { echo "no compiled entry point for APP=${APP} under dist/apps/${APP}" >&2; exit 1; }

############################ runtime ############################
FROM node:20-bookworm-slim
ARG APP=ingestor
# NODE_FLAGS: the services' node flags (SERVICE_NODE_FLAGS in libs/testing/src/service-process.ts
# says why); on node's command line because NODE_OPTIONS refuses --no-allocation-site-pretenuring.
ENV NODE_ENV=production \
    APP=${APP} \
    HTTP_HOST=0.0.0.0 \
    NODE_FLAGS="--max-semi-space-size=64 --no-allocation-site-pretenuring"
WORKDIR /app

# The built workspace without dev dependencies (dist/, node_modules/, schemas/, migrations/, ...).
COPY --from=build --chown=node:node /app /app
USER node

# Exec form cannot expand ${APP}: a shell picks the entry point, then `exec` makes node
# PID 1 so it receives SIGTERM from `docker stop` and shuts down gracefully.
# The entry is dist/apps/<app>/main.js, or dist/apps/<app>/src/main.js when tsc keeps
# the source layout (rootDir "./", as tsconfig.build.json does today).
CMD ["sh", "-c", "if [ -f \"dist/apps/${APP}/main.js\" ]; then exec node ${NODE_FLAGS} \"dist/apps/${APP}/main.js\"; else exec node ${NODE_FLAGS} \"dist/apps/${APP}/src/main.js\"; fi"]
