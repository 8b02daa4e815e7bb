#!/usr/bin/env bash
# End-to-end check of Lattice's derived objects in a real Istio-ambient + Cilium cluster, on kind.
#
# Builds: a kind cluster without its default CNI; Cilium with cni.exclusive=false (so the Istio CNI can
# chain after it) and socketLB.hostNamespaceOnly=true; the Gateway API CRDs; Istio with the ambient
# profile (istio-base, istiod, istio-cni, ztunnel); External Secrets Operator; the VictoriaMetrics
# operator (for the VMServiceScrape kind); Lattice's CRDs and controller (`lattice install`).
# Then renders three demo services with `lattice render`, applies the output, and checks:
#   1. the agreed caller (client -> server) connects to the server;
#   2. a pod that is not agreed (intruder) cannot;
#   3. the server's pods pass their kubelet probes (Ready) under the default deny.
#
# Needs Docker, kind, kubectl, helm, curl and Node.js 20.19+ (run from a checkout after `npm ci`).
# Not run in CI (no Docker engine there). Environment:
#   CLUSTER=lattice-e2e   kind cluster name
#   KEEP=1                keep the cluster afterwards (default: delete it)
#   LATTICE_IMAGE=ref     use this controller image instead of building one
#   CILIUM_VERSION, ISTIO_VERSION, ESO_VERSION, GATEWAY_API_VERSION, VM_OPERATOR_VERSION: chart versions
set -euo pipefail

CLUSTER="${CLUSTER:-lattice-e2e}"
CILIUM_VERSION="${CILIUM_VERSION:-1.18.2}"
ISTIO_VERSION="${ISTIO_VERSION:-1.28.0}"
ESO_VERSION="${ESO_VERSION:-0.20.4}"
GATEWAY_API_VERSION="${GATEWAY_API_VERSION:-v1.3.0}"
VM_OPERATOR_VERSION="${VM_OPERATOR_VERSION:-0.54.0}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="$(mktemp -d)"
LATTICE=(node "$ROOT/bin/lattice.js")

log() { printf '\n== %s\n' "$*" >&2; }
fail() { printf '\nFAIL: %s\n' "$*" >&2; exit 1; }

cleanup() {
  rm -rf "$WORK"
  if [[ "${KEEP:-0}" != "1" ]]; then kind delete cluster --name "$CLUSTER" >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT

for tool in docker kind kubectl helm node curl; do
  command -v "$tool" >/dev/null || fail "$tool is not installed (this script needs docker, kind, kubectl, helm, node and curl)"
done
[[ -e "$ROOT/node_modules/tsx" ]] || fail "run npm ci in the Lattice checkout $ROOT first"

log "kind cluster $CLUSTER (no default CNI)"
cat >"$WORK/kind.yaml" <<'EOF'
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
networking:
  disableDefaultCNI: true
nodes:
  - role: control-plane
  - role: worker
EOF
kind create cluster --name "$CLUSTER" --config "$WORK/kind.yaml" --wait 0s

log "Cilium $CILIUM_VERSION (cni.exclusive=false, socketLB.hostNamespaceOnly=true)"
helm repo add cilium https://helm.cilium.io >/dev/null
helm repo add istio https://istio-release.storage.googleapis.com/charts >/dev/null
helm repo add external-secrets https://charts.external-secrets.io >/dev/null
helm repo add vm https://victoriametrics.github.io/helm-charts >/dev/null
helm repo update >/dev/null
helm install cilium cilium/cilium --version "$CILIUM_VERSION" -n kube-system \
  --set cni.exclusive=false \
  --set socketLB.hostNamespaceOnly=true \
  --set ipam.mode=kubernetes \
  --set dnsProxy.dnsRejectResponseCode=nameError \
  --wait
kubectl wait --for=condition=Ready nodes --all --timeout=300s

log "Gateway API $GATEWAY_API_VERSION CRDs"
kubectl apply -f "https://github.com/kubernetes-sigs/gateway-api/releases/download/${GATEWAY_API_VERSION}/standard-install.yaml"

log "Istio $ISTIO_VERSION, ambient profile (istiod, istio-cni, ztunnel)"
helm install istio-base istio/base --version "$ISTIO_VERSION" -n istio-system --create-namespace --wait
helm install istiod istio/istiod --version "$ISTIO_VERSION" -n istio-system --set profile=ambient --wait
helm install istio-cni istio/cni --version "$ISTIO_VERSION" -n istio-system --set profile=ambient --wait
helm install ztunnel istio/ztunnel --version "$ISTIO_VERSION" -n istio-system --wait

log "External Secrets Operator $ESO_VERSION and the VictoriaMetrics operator $VM_OPERATOR_VERSION"
helm install external-secrets external-secrets/external-secrets --version "$ESO_VERSION" -n external-secrets --create-namespace --wait
helm install vm-operator vm/victoria-metrics-operator --version "$VM_OPERATOR_VERSION" -n monitoring --create-namespace --wait

log "Lattice CRDs and controller"
IMAGE="${LATTICE_IMAGE:-lattice-controller:e2e}"
if [[ -z "${LATTICE_IMAGE:-}" ]]; then docker build -t "$IMAGE" "$ROOT"; fi
kind load docker-image "$IMAGE" --name "$CLUSTER"
"${LATTICE[@]}" install --image "$IMAGE" | kubectl apply --server-side -f -
kubectl -n lattice-system wait --for=condition=Available deployment --all --timeout=300s

log "demo services: client -> server agreed, intruder not"
AGNHOST="registry.k8s.io/e2e-test-images/agnhost:2.53"
docker pull -q "$AGNHOST" >/dev/null
PINNED="$(docker image inspect --format '{{index .RepoDigests 0}}' "$AGNHOST")"
[[ "$PINNED" == *@sha256:* ]] || fail "could not resolve a digest for $AGNHOST"
mkdir -p "$WORK/demo"
cat >"$WORK/demo/platform.yaml" <<'EOF'
apiVersion: lattice.dev/v1alpha1
kind: LatticePlatform
metadata: {name: default}
spec: {}
---
apiVersion: v1
kind: Namespace
metadata: {name: demo}
---
apiVersion: lattice.dev/v1alpha1
kind: CedarPolicy
metadata: {name: e2e, namespace: lattice-system}
spec:
  description: e2e demo only; everything but skipping image verification is permitted.
  policies: 'permit (principal, action, resource) unless { action == Lattice::Action::"SkipImageVerification" };'
EOF
service() { # name, args (YAML flow list), resources (YAML flow map), ports (YAML flow map or empty)
  cat >"$WORK/demo/$1.yaml" <<EOF
apiVersion: lattice.dev/v1alpha1
kind: LatticeService
metadata: {name: $1, namespace: demo}
spec:
  workload:
    containers:
      main:
        image: "$PINNED"
        args: $2
        security: {runAsUser: 65534}
        resources: {limits: {cpu: 200m, memory: 128Mi}}
$( [[ -n "$4" ]] && printf '        readinessProbe: {httpGet: {path: /, port: http}}\n' )
$( [[ -n "$4" ]] && printf '    service: {ports: %s}\n' "$4" )
    resources: $3
EOF
}
service server '[netexec, --http-port=8080]' '{client: {type: service, direction: inbound}}' '{http: {port: 80, targetPort: 8080}}'
service client '[netexec, --http-port=8081]' '{server: {type: service}}' ''
service intruder '[netexec, --http-port=8081]' '{}' ''

kubectl create namespace demo --dry-run=client -o yaml | kubectl apply -f -
set +e
"${LATTICE[@]}" render "$WORK/demo" >"$WORK/rendered.yaml"
rc=$?
set -e
[[ $rc -eq 0 ]] || fail "lattice render refused the demo services (exit $rc); its summary is above"
kubectl apply --server-side -f "$WORK/rendered.yaml"
kubectl -n demo rollout status deployment/server --timeout=300s || fail "server did not become Ready (kubelet probes under the default deny?)"
kubectl -n demo rollout status deployment/client --timeout=300s
kubectl -n demo rollout status deployment/intruder --timeout=300s

log "checks"
# Each check asks a pod's netexec to make an HTTP request (its /dial endpoint), through a port-forward
# (which enters the pod's own network namespace, outside any network policy): the answer says whether
# the server replied, so a connection accepted by the caller's own ztunnel does not count as success.
dial() { # pod, host -> prints the /dial JSON
  local port=$((18000 + RANDOM % 1000)) out
  kubectl -n demo port-forward "deploy/$1" "$port:8081" >/dev/null 2>&1 &
  local pf=$!
  sleep 3
  out="$(curl -s --max-time 30 "http://127.0.0.1:$port/dial?request=hostname&protocol=http&host=$2&port=80&tries=1" || true)"
  kill "$pf" 2>/dev/null || true
  printf '%s' "$out"
}
SERVER_IP="$(kubectl -n demo get service server -o jsonpath='{.spec.clusterIP}')"
reply="$(dial client server.demo.svc.cluster.local)"
[[ "$reply" == *'"responses":["server-'* ]] || fail "the agreed caller client could not reach server: $reply"
echo "ok: client reaches server (agreed): $reply"
for host in server.demo.svc.cluster.local "$SERVER_IP"; do
  reply="$(dial intruder "$host")"
  [[ "$reply" != *'"responses":["server-'* ]] || fail "intruder reached server at $host although nothing agrees to it: $reply"
  echo "ok: intruder does not reach server at $host (not agreed): $reply"
done
[[ "$(kubectl -n demo get deploy server -o jsonpath='{.status.readyReplicas}')" -ge 1 ]] || fail "server has no ready pod"
echo "ok: server pods pass their probes"
echo "PASS" >&2
