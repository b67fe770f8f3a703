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
# Memory: scrypt's 16 MiB buffers go back to the OS (glibc keeps smaller allocations), and the V8 heap is
# collected before it grows far past what the app holds (~50 MB live). See docs/operations.md.
ENV MALLOC_MMAP_THRESHOLD_=1048576
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
USER node
EXPOSE 8001
CMD ["node", "--max-old-space-size=160", "dist/src/main.js"]
