# Production image: builds the TypeScript, then runs the compiled app on Node 24 (the newest LTS; package.json
# engines: ^22.22.3 || ^24.15.0 || >=26.0.0).
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
USER node
EXPOSE 8001
# The app sets its own memory settings (heap cap, MALLOC_MMAP_THRESHOLD_) at start: see docs/operations.md.
CMD ["node", "dist/src/main.js"]
