# The Lattice operator image: `lattice controller`, run by Node.js 24 from the bundle dist/ (npm run build).
#
#   docker build -t lattice-controller:0.1.0 .
#   lattice install --image lattice-controller:0.1.0 | kubectl apply --server-side -f -
#
# Base image: node:24-bookworm-slim pinned by digest, so a rebuild gets the same base. The digest
# below is the one github.com/cyanxxy/open-ocr-cli-mcp pins in its Dockerfile (commit 9b9df545), also
# pinned by two other unrelated projects, one of which records it as Node.js 24.18.0 and reports
# building on it; it was not pulled here (no container engine on the machine that wrote this). To move
# it (for example to the Node.js in .node-version, which CI runs):
#   docker buildx imagetools inspect node:24.22.3-bookworm-slim   # use the manifest-list digest
#
# Stages: `build` compiles the bundle with the devDependencies; `deps` installs the production
# dependencies, of which the bundle loads only the packages it leaves external (scripts/build.mjs
# EXTERNAL: @cedar-policy/cedar-wasm, node-fetch) and theirs; the image holds bin/, dist/ and the
# production node_modules: no sources, no compilers, no tsx. test/bundle.test.ts runs the bundle with
# only the EXTERNAL packages in node_modules. No install scripts run (--ignore-scripts).
# The image runs as UID/GID 10001 (numeric, so the kubelet can check runAsNonRoot).
ARG NODE_IMAGE=node:24-bookworm-slim@sha256:6f7b03f7c2c8e2e784dcf9295400527b9b1270fd37b7e9a7285cf83b6951452d

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY scripts/build.mjs ./scripts/
COPY src ./src
RUN npm run build

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM ${NODE_IMAGE}
WORKDIR /app
ENV NODE_ENV=production
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY --from=build /app/dist ./dist
USER 10001:10001
EXPOSE 8080
ENTRYPOINT ["node", "bin/lattice.js"]
CMD ["controller"]
