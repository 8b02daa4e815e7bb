# The Lattice operator image: `lattice controller`, run by Node.js through tsx (no build step).
#
#   docker build -t lattice-controller:0.1.0 .
#   lattice install --image lattice-controller:0.1.0 | kubectl apply --server-side -f -
#
# tsx is a runtime dependency (package.json "dependencies"): `npm ci --omit=dev` keeps it and leaves
# out the compilers, linters and test-only schema packages. The image runs as UID/GID 10001 (numeric,
# so the kubelet can check runAsNonRoot); with a read-only root filesystem, mount a writable /tmp
# (tsx caches transpiled sources there): the Deployment of `lattice install` does.

FROM node:20-bookworm-slim AS deps
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY src ./src
USER 10001:10001
EXPOSE 8080
ENTRYPOINT ["node", "bin/lattice.js"]
CMD ["controller"]
