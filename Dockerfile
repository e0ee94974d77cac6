# syntax=docker/dockerfile:1
#
# nest-commerce application image. One image, three uses (APP_ROLE picks the role at run time):
#   api     docker run ... -e APP_ROLE=api    image            (HTTP :3000 + gRPC :50051)
#   worker  docker run ... -e APP_ROLE=worker image            (queues; /health, /health/ready, /metrics on :3000)
#   migrate docker run ... image node dist/infra/database/migrate.js
#
# Build: docker build -t nest-commerce:local .
ARG NODE_IMAGE=node:20-bookworm-slim

# ---------------------------------------------------------------------------------------------
# build: full dependency tree, compile, then drop the dev dependencies in place
# ---------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
ENV CI=true \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false \
    NPM_CONFIG_UPDATE_NOTIFIER=false

# Manifests first so the dependency layer is cached until they change.
COPY package.json package-lock.json ./
# No install scripts run (package.json "allowScripts" denies all of them): argon2 loads the
# prebuilt N-API binary it ships (prebuilds/linux-x64) through node-gyp-build at run time, so
# the image needs no compiler toolchain.
RUN npm ci --ignore-scripts

COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY src ./src
# nest build also copies the assets named in nest-cli.json (*.proto, mail templates) into dist/.
RUN npm run build \
 && npm prune --omit=dev --ignore-scripts \
 && rm -f dist/.tsbuildinfo \
 && npm cache clean --force

# ---------------------------------------------------------------------------------------------
# runtime: node + production node_modules + dist, nothing else
# ---------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    PORT=3000 \
    GRPC_PORT=50051
WORKDIR /app

# Files stay owned by root and are only readable by `node`: the process cannot rewrite its own
# code, and the image works with a read-only root filesystem (Kubernetes readOnlyRootFilesystem).
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist

# The base image's unprivileged user (uid/gid 1000). Kubernetes needs the numeric id
# (runAsUser: 1000) to verify runAsNonRoot, because this names the user.
USER node

EXPOSE 3000 50051

# node is PID 1 and handles SIGTERM itself (enableShutdownHooks): readiness turns 503, in-flight
# HTTP/gRPC calls and jobs drain, connections close, bounded by SHUTDOWN_TIMEOUT_MS (15 s).
# Give the container more than that to stop (compose stop_grace_period / k8s
# terminationGracePeriodSeconds: 30). Health checks live in compose and the k8s probes.
STOPSIGNAL SIGTERM
CMD ["node", "dist/main.js"]
