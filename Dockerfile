# One image for every UsageGuard app; the command picks the app (see docker-compose.yml).
# Not built on this project's machines (no Docker engine there); kept in step with `npm run build` by review.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts/prisma-generate.sh scripts/
COPY prisma prisma
COPY prisma.config.ts ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY --from=build /app/prisma prisma
COPY --from=build /app/package.json package.json
COPY --from=build /app/apps/dashboard/web/dist apps/dashboard/web/dist
USER node
CMD ["node", "dist/apps/control-plane/main.js"]
