# sqlwarden: the proxy image. Build: docker build -t sqlwarden .
FROM node:20-bookworm-slim AS build
WORKDIR /src
RUN npm i -g pnpm@10.34.8
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml tsconfig.base.json tsconfig.json ./
COPY packages ./packages
COPY policies ./policies
COPY scripts ./scripts
RUN pnpm install --frozen-lockfile --ignore-scripts \
 && pnpm exec tsc -b packages/server \
 && node scripts/copy-policies.mjs \
 && pnpm --filter @sqlwarden/server deploy --legacy --prod --ignore-scripts /out

FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends postgresql-client wget && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /out /app
USER node
EXPOSE 6432 8080
HEALTHCHECK --interval=5s --timeout=3s --retries=10 CMD wget -qO- http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["node", "/app/bin/sqlwarden.js"]
CMD ["start", "-c", "/etc/sqlwarden/sqlwarden.yaml"]
