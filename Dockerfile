# syntax=docker/dockerfile:1
# kbk as a container image, for the Helm chart in deploy/helm/kbk (docs/scale-out.md).
#   docker build -t kbk:0.1.0 .
#   docker run --rm -v "$PWD:/workspace:ro" -e AWS_ACCESS_KEY_ID -e AWS_SECRET_ACCESS_KEY kbk:0.1.0 plan
# The workspace (kbk.yaml) is mounted at /workspace (a ConfigMap or git-sync volume); credentials
# come from the environment (a Secret, IRSA, Workload Identity), never from the image.
# test/unit/deploy/dockerfile.test.ts checks the essentials below.
ARG NODE_IMAGE=node:22-bookworm-slim

# 1. Build: dev dependencies, tsc, the oclif manifest and the precompiled schema validator.
FROM ${NODE_IMAGE} AS build
WORKDIR /src
# zstd-napi falls back to compiling when no prebuilt binary fits: keep a toolchain at hand here only.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY . .
RUN npm rebuild zstd-napi && npm run build

# 2. Production dependencies only (no tsc, no test tools). `prepare` (the build) is not run
#    here: the built files come from stage 1. Native modules still build or fetch their binaries.
FROM build AS deps
WORKDIR /deps
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts \
 && npm rebuild zstd-napi protobufjs \
 && npm cache clean --force

# 3. Runtime: the small Node base, the built CLI, non-root, nothing else.
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    KBK_IN_AUTOMATION=1 \
    HOME=/tmp
WORKDIR /app
COPY --from=deps /deps/node_modules ./node_modules
COPY --from=build /src/package.json /src/oclif.manifest.json ./
COPY --from=build /src/bin/run.js ./bin/run.js
COPY --from=build /src/dist ./dist
COPY --from=build /src/schemas ./schemas
RUN ln -s /app/bin/run.js /usr/local/bin/kbk && find /app/dist -name '*.map' -delete
# The `node` user of the base image, by number, so Kubernetes can verify runAsNonRoot.
USER 1000:1000
WORKDIR /workspace
ENTRYPOINT ["node", "/app/bin/run.js"]
CMD ["--help"]
