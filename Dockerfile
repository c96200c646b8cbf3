# syntax=docker/dockerfile:1
# The sigrelease worker image: Node 20 on Debian bookworm with the repository tools the activities
# run (dnf reposync, createrepo_c, rpm, rsync, hardlink, gpg), the production node_modules, and a
# workflow bundle prebuilt at image build time. Runs as a non-root user whose uid/gid own the trees
# it writes (the seed's --chown=10004:10005 by default; set the site config's `owner` to match).
#
#   docker build -t sigrelease-worker:0.1.0 .        (docker-compose.yml does this for the `worker` service)
#
# Node is pinned to the release the test suite runs on; move it with .ci and package.json "engines".
ARG NODE_IMAGE=node:20.20.2-bookworm-slim

# --- production dependencies (tsx stays a runtime dependency: the bundle tool and bin/sigrelease's fallback use it)
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error

# --- the CLI and worker as JavaScript (tsc is a dev dependency; only dist/ leaves this stage), so the
# entrypoint starts without transpiling: bin/sigrelease runs dist/ while it is newer than the sources
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY workflows ./workflows
COPY activities ./activities
COPY test/fixtures ./test/fixtures
COPY test/helpers/random.ts ./test/helpers/random.ts
COPY scripts/bundle-cli.mjs ./scripts/bundle-cli.mjs
RUN npx tsc -p tsconfig.build.json && node scripts/bundle-cli.mjs && touch dist/.built

# --- the workflow bundle, built once here instead of by webpack at every worker start
FROM deps AS bundle
COPY tsconfig.json ./
COPY src ./src
COPY workflows ./workflows
COPY activities ./activities
COPY deploy/bundle-workflows.ts ./deploy/bundle-workflows.ts
RUN node --import tsx deploy/bundle-workflows.ts /app/dist/workflow-bundle.js

# --- runtime
FROM ${NODE_IMAGE} AS runtime
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      rsync dnf dnf-plugins-core createrepo-c rpm util-linux gpg gpg-agent ca-certificates \
 && rm -rf /var/lib/apt/lists/*

ARG SIGRELEASE_UID=10004
ARG SIGRELEASE_GID=10005
RUN groupadd --gid "${SIGRELEASE_GID}" sigrelease \
 && useradd --uid "${SIGRELEASE_UID}" --gid "${SIGRELEASE_GID}" --create-home --home-dir /home/sigrelease \
      --shell /usr/sbin/nologin sigrelease \
 && mkdir -p /mnt/compose /mnt/repos-staging /mnt/repos-production /etc/sigrelease \
 && chown sigrelease:sigrelease /mnt/compose /mnt/repos-staging /mnt/repos-production

WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json tsconfig.json ./
COPY bin ./bin
COPY src ./src
COPY workflows ./workflows
COPY activities ./activities
COPY config ./config
# Sources first, the build after: dist/.built must be newer than every source for bin/sigrelease to use it.
COPY --from=build /app/dist ./dist
COPY --from=bundle /app/dist/workflow-bundle.js ./dist/workflow-bundle.js
# Operator tools: rebuild the bundle, and the pre-deploy replay check of open runs (deploy/README.md).
COPY deploy/bundle-workflows.ts deploy/replay-open-runs.ts ./deploy/
# The example site config; docker-compose.yml mounts the real one over it.
COPY deploy/site.yaml /etc/sigrelease/site.yaml

ENV NODE_ENV=production \
    SIGRELEASE_SITE=/etc/sigrelease/site.yaml \
    SIGRELEASE_WORKFLOW_BUNDLE=/app/dist/workflow-bundle.js
USER sigrelease:sigrelease
WORKDIR /home/sigrelease
ENTRYPOINT ["/app/bin/sigrelease"]
CMD ["worker", "--queues", "control,host"]
