# Steward's image: `steward start` by default; `steward worker` (or any other command) as
# the container's command. See deploy/compose.yaml for PostgreSQL and several workers.
#
#   docker build -t steward .
#   docker run -p 3000:3000 -v steward-data:/var/lib/steward steward

# ---- build: every dependency, and a typecheck of the sources the image ships ----------
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: the optional @tensorflow/tfjs-node downloads a native TensorFlow in its
# install script, which fails without internet access and needs a compiler otherwise.
# Steward trains on the wasm backend without it (src/stages/ml/tf.ts), so it is not built.
# No other package here needs its install script: esbuild (tsx), resvg and biome ship
# their binaries as platform packages.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN npm run typecheck

# ---- runtime: production dependencies only, run by tsx as `npm start` does ---------------
FROM node:20-bookworm-slim AS runtime
# Charts are rendered by resvg with the system's fonts: without one, their text is missing.
# resvg finds them through /etc/fonts/fonts.conf, which fontconfig-config provides: with
# fonts-dejavu-core alone (no fonts.conf in the slim image) it finds none and draws no text.
RUN apt-get update \
  && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
    fonts-dejavu-core fontconfig-config \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# tsx (TypeScript at runtime) is a production dependency. tfjs-node is dropped as in the
# build stage: its package without the native library it failed to download would only be
# tried and refused on every training run.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
  && rm -rf node_modules/@tensorflow/tfjs-node \
  && npm cache clean --force
COPY --from=build /app/bin ./bin
COPY --from=build /app/src ./src
COPY --from=build /app/migrations ./migrations
COPY --from=build /app/tsconfig.json ./
COPY --from=build /app/deploy/healthcheck.mjs ./deploy/healthcheck.mjs
# The example pipelines and their data, outside the code: CSV sources may be read from the
# pipelines dir's parent (STEWARD_DATA_ROOTS' default), which is then /srv/steward only.
COPY --from=build /app/pipelines /srv/steward/pipelines
COPY --from=build /app/examples /srv/steward/examples
RUN ln -s /app/bin/steward.js /usr/local/bin/steward \
  && mkdir -p /var/lib/steward \
  && chown node:node /var/lib/steward

ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    STEWARD_METRICS_PORT=9464 \
    STEWARD_DATA_DIR=/var/lib/steward \
    STEWARD_PIPELINES_DIR=/srv/steward/pipelines
# The embedded database (without DATABASE_URL), the data dir's secret and the lock.
VOLUME ["/var/lib/steward"]
# 3000: `steward start` (Slack, REST API, console, serving, /metrics, /healthz).
# 9464: `steward worker` (/healthz and /metrics only).
EXPOSE 3000 9464
USER node
# /healthz on PORT (`steward start`) or on STEWARD_METRICS_PORT (`steward worker`), whichever
# this container serves: healthy when it answers 200, that is the database and the job loop are ok.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "/app/deploy/healthcheck.mjs"]
ENTRYPOINT ["steward"]
CMD ["start"]
