#!/usr/bin/env bash
# Operator benchmark on a real control plane (not a test; CI does not run it).
#
# Workload: MCP_BENCH_SERVERS (1,000) MCPServers (gateway sidecar on, an ingress host, two tools)
# and MCP_BENCH_GRANTS (250) MCPAccessGrants, created in a fresh namespace BEFORE the operator
# starts. Then `mcp-runtime operator --leader-elect=false` runs against the cluster and the
# benchmark reports:
#   - the time from the operator's start until every server's and grant's status.observedGeneration
#     equals its metadata.generation (target <= 60 s);
#   - the operator's peak RSS, VmHWM from /proc/<pid>/status (target <= 100 MB);
#   - its writes over MCP_BENCH_STEADY_SECONDS (20) of steady state (target 0), counted two ways:
#     the API server's own request counters (apiserver_request_total) for the write verbs the
#     operator uses, and the resourceVersions (generations for Deployments) of every server, grant
#     and child before and after the window.
#
# Nodes do not exist on the control plane: pods stay Pending and Deployments never become
# available, so the operator never reaches the MCP handshake (it only runs against ready pods).
# Before the steady-state window opens, the benchmark waits for kube-controller-manager to finish
# creating the ReplicaSets and Pods (its Deployment status updates are changes of the world that
# the operator legitimately reacts to).
#
# One line:  bench/operator-cluster.sh
#
# Environment:
#   MCP_BENCH_BINARY       the mcp-runtime binary (default target/release/mcp-runtime)
#   MCP_BENCH_KUBECONFIG   run against this cluster instead of a private one (the namespace is
#                          deleted afterwards; the cluster is left running)
#   MCP_BENCH_CRDS         a directory of CRD manifests to install instead of `mcp-runtime crd`
#   MCP_BENCH_SERVERS, MCP_BENCH_GRANTS, MCP_BENCH_STEADY_SECONDS
#
# The control plane's floor (the same children written with no operator) is measured by
# `cargo bench -p mcp-runtime-operator --bench operator_scale` with MCP_BENCH_KUBECONFIG set.
#   MIMALLOC_PURGE_DELAY   the allocator setting the shipped Deployment uses (default 0, as there)
#   K8S_STATE_DIR, K8S_API_PORT, K8S_ETCD_PORT, K8S_KCM_PORT  the private control plane
#                          (default /tmp/mcp-bench-k8s on 17443 / 24790 / 21257, so it never
#                          disturbs the shared one on the default ports); it is started fresh and
#                          stopped at the end unless MCP_BENCH_KEEP_PLANE=1.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${MCP_BENCH_BINARY:-$ROOT/target/release/mcp-runtime}
SERVERS=${MCP_BENCH_SERVERS:-1000}
GRANTS=${MCP_BENCH_GRANTS:-250}
STEADY=${MCP_BENCH_STEADY_SECONDS:-20}
CONVERGE_TIMEOUT=${MCP_BENCH_CONVERGE_TIMEOUT:-600}
SETTLE_TIMEOUT=${MCP_BENCH_SETTLE_TIMEOUT:-900}
ADMIN_PORT=${MCP_BENCH_ADMIN_PORT:-18081}
CONTROL_PLANE=$ROOT/../shared/k8s/control-plane
NS=mcp-bench-$(date +%s)
WORK=$(mktemp -d /tmp/mcp-bench-operator.XXXXXX)
OPERATOR_PID=
WATCH_PIDS=()
PRIVATE_PLANE=

die() { echo "operator-cluster: $*" >&2; exit 2; }
log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }

[ -x "$BIN" ] || die "no binary at $BIN (cargo build --release -p mcp-runtime, or set MCP_BENCH_BINARY)"

cleanup() {
  for pid in "${WATCH_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  if [ -n "$OPERATOR_PID" ] && kill -0 "$OPERATOR_PID" 2>/dev/null; then
    kill -TERM "$OPERATOR_PID" 2>/dev/null || true
    wait "$OPERATOR_PID" 2>/dev/null || true
  fi
  if [ -n "$PRIVATE_PLANE" ]; then
    [ "${MCP_BENCH_KEEP_PLANE:-0}" = 1 ] || "$CONTROL_PLANE" stop >/dev/null 2>&1 || true
  elif [ -n "${KUBECONFIG:-}" ]; then
    kubectl delete namespace "$NS" --wait=false >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT
trap "exit 130" INT TERM

if [ -n "${MCP_BENCH_KUBECONFIG:-}" ]; then
  export KUBECONFIG=$MCP_BENCH_KUBECONFIG
else
  export K8S_STATE_DIR=${K8S_STATE_DIR:-/tmp/mcp-bench-k8s}
  export K8S_API_PORT=${K8S_API_PORT:-17443} K8S_ETCD_PORT=${K8S_ETCD_PORT:-24790} K8S_KCM_PORT=${K8S_KCM_PORT:-21257}
  [ -x "$CONTROL_PLANE" ] || die "no control-plane script at $CONTROL_PLANE"
  log "starting a fresh private control plane in $K8S_STATE_DIR (API port $K8S_API_PORT)"
  PRIVATE_PLANE=1
  KUBECONFIG=$("$CONTROL_PLANE" start --fresh | tail -1)
  export KUBECONFIG
fi
kubectl version -o json 2>/dev/null | jq -r '"API server " + .serverVersion.gitVersion' >&2 \
  || die "cannot reach the cluster in $KUBECONFIG"

# CRDs.
if [ -n "${MCP_BENCH_CRDS:-}" ]; then
  kubectl apply --server-side --force-conflicts -f "$MCP_BENCH_CRDS" >/dev/null
else
  "$BIN" crd | kubectl apply --server-side --force-conflicts -f - >/dev/null \
    || die "the CRDs did not install (set MCP_BENCH_CRDS to a directory of manifests that do)"
fi
for kind in mcpservers mcpaccessgrants mcpagentsessions; do
  for ((try = 0; ; try++)); do
    [ "$(kubectl get crd "$kind.mcpruntime.org" -o jsonpath='{.status.conditions[?(@.type=="Established")].status}')" = True ] && break
    ((try < 120)) || die "CRD $kind.mcpruntime.org not established"
    sleep 0.5
  done
done

# The benchmark's MCPServer, named $1 in namespace $2.
server_manifest() {
  printf -- '---\napiVersion: mcpruntime.org/v1alpha1\nkind: MCPServer\nmetadata: {name: %s, namespace: %s}\n' "$1" "$2"
  printf 'spec:\n  image: ghcr.io/example/tools\n  imageTag: "1.0"\n  ingressHost: mcp.example.com\n'
  printf '  gateway: {enabled: true}\n'
  printf '  tools: [{name: search, sideEffect: read}, {name: write, sideEffect: write}]\n'
}

start_operator() {
  MCP_GATEWAY_PROXY_IMAGE=ghcr.io/mcp-runtime/mcp-runtime:0.1.0 \
    MCP_SENTINEL_INGEST_URL=http://sentinel.mcp-sentinel.svc:8080/events \
    RUST_LOG=${RUST_LOG:-warn} MIMALLOC_PURGE_DELAY=${MIMALLOC_PURGE_DELAY:-0} \
    "$BIN" operator --leader-elect=false --health-addr "127.0.0.1:$ADMIN_PORT" --metrics-addr "127.0.0.1:$ADMIN_PORT" \
    >"$WORK/operator.log" 2>&1 &
  OPERATOR_PID=$!
}

# Workload, created before the operator starts.
kubectl create namespace "$NS" >/dev/null
{
  for ((i = 0; i < SERVERS; i++)); do
    server_manifest "$(printf srv-%04d "$i")" "$NS"
  done
  for ((i = 0; i < GRANTS; i++)); do
    printf -- '---\napiVersion: mcpruntime.org/v1alpha1\nkind: MCPAccessGrant\nmetadata: {name: grant-%04d, namespace: %s}\n' "$i" "$NS"
    printf 'spec:\n  serverRef: {name: srv-%04d}\n  subject: {humanID: user-%04d}\n' $(( (i * SERVERS / (GRANTS > 0 ? GRANTS : 1)) % SERVERS )) "$i"
    printf '  maxTrust: medium\n  allowedSideEffects: [read]\n'
  done
} >"$WORK/workload.yaml"
log "creating $SERVERS MCPServers and $GRANTS MCPAccessGrants in namespace $NS"
kubectl create -f "$WORK/workload.yaml" >/dev/null

# Watches `kind` (one LIST, then watch events: polling 1,000 full objects every half second would
# load the API server more than the operator does) and writes the time at which every one of
# `count` objects has status.observedGeneration == metadata.generation to `out`.
watch_converged() {
  local kind=$1 count=$2 out=$3
  mkfifo "$out.fifo"
  kubectl get "$kind" -n "$NS" --watch --no-headers \
    -o custom-columns=N:.metadata.name,G:.metadata.generation,O:.status.observedGeneration >"$out.fifo" 2>/dev/null &
  WATCH_PIDS+=($!)
  # A bash loop, not awk: mawk reads a pipe in blocks and would see the last lines late.
  (
    declare -A ok
    converged=0
    ((count > 0)) || { date +%s.%N >"$out"; exit 0; }
    while read -r name generation observed; do
      now=0
      [ "$generation" = "$observed" ] && now=1
      if [ "$now" != "${ok[$name]:-0}" ]; then
        ((converged += now ? 1 : -1))
        ok[$name]=$now
      fi
      if ((converged == count)); then date +%s.%N >"$out"; exit 0; fi
    done <"$out.fifo"
  ) &
  WATCH_PIDS+=($!)
}

# The API server's write requests so far, one "verb group resource subresource count" per line.
write_requests() {
  kubectl get --raw /metrics | awk '
    /^apiserver_request_total\{/ {
      verb = ""; group = ""; resource = ""; sub_ = ""
      if (match($0, /verb="[A-Z]+"/)) verb = substr($0, RSTART + 6, RLENGTH - 7)
      if (verb != "POST" && verb != "PUT" && verb != "PATCH" && verb != "APPLY" && verb != "DELETE") next
      if (match($0, /group="[^"]*"/)) group = substr($0, RSTART + 7, RLENGTH - 8)
      if (match($0, /resource="[^"]*"/)) resource = substr($0, RSTART + 10, RLENGTH - 11)
      if (match($0, /subresource="[^"]*"/)) sub_ = substr($0, RSTART + 13, RLENGTH - 14)
      n[verb " " (group == "" ? "core" : group) " " resource " " (sub_ == "" ? "-" : sub_)] += $NF
    }
    END { for (k in n) print k, n[k] }' | sort
}

# Whether a write request was made by the operator: it writes only with server-side apply
# (PATCH), deletes pruned children, and creates events.k8s.io Events. kube-controller-manager
# writes core Events and uses POST/PUT for ReplicaSets, Pods, Endpoints and Deployment status;
# leases are renewed with PUT.
operator_writes() {
  awk '$1 == "APPLY" || $1 == "PATCH" || $1 == "DELETE" || ($1 == "POST" && $2 == "events.k8s.io") { n += $5 } END { print n + 0 }'
}

# resourceVersions of everything the operator reads or writes in the namespace (Deployments by
# generation, since kube-controller-manager updates their status).
versions() {
  kubectl get mcpservers,mcpaccessgrants,services,ingresses,networkpolicies,configmaps,serviceaccounts -n "$NS" \
    --no-headers -o custom-columns=K:.kind,N:.metadata.name,V:.metadata.resourceVersion
  kubectl get deployments -n "$NS" --no-headers \
    -o custom-columns=K:.kind,N:.metadata.name,G:.metadata.generation,A:'.metadata.annotations.mcpruntime\.org/applied-hash'
}

field() { awk -v f="$1:" '$1 == f { print $2 }' "/proc/$OPERATOR_PID/status"; }
mib() { awk -v kb="$1" 'BEGIN { printf "%.1f", kb / 1024 }'; }

watch_converged mcpservers "$SERVERS" "$WORK/servers.done"
watch_converged mcpaccessgrants "$GRANTS" "$WORK/grants.done"
watch_started=$SECONDS
log "starting the operator: $BIN operator --leader-elect=false"
writes_before_start=$(write_requests | operator_writes)
start_operator
started=$(date +%s.%N)

# How many objects of `kind` have status.observedGeneration == metadata.generation, counted from
# one LIST. A fallback for the watches above: at thousands of objects on a saturated API server
# a `kubectl --watch` can end without saying so, and its count then stops.
converged_count() {
  kubectl get "$1" -n "$NS" --request-timeout=300s --no-headers \
    -o custom-columns=G:.metadata.generation,O:.status.observedGeneration 2>/dev/null \
    | awk '$1 == $2 { n++ } END { print n + 0 }'
}
poll_every=$(( SERVERS / 500 > 2 ? SERVERS / 500 : 2 ))
last_poll=$SECONDS
while :; do
  kill -0 "$OPERATOR_PID" 2>/dev/null || { tail -20 "$WORK/operator.log" >&2; die "the operator exited"; }
  if [ -s "$WORK/servers.done" ] && [ -s "$WORK/grants.done" ]; then break; fi
  if (( SECONDS - last_poll >= poll_every )); then
    last_poll=$SECONDS
    [ -s "$WORK/servers.done" ] || { [ "$(converged_count mcpservers)" -eq "$SERVERS" ] && date +%s.%N >"$WORK/servers.done"; }
    [ -s "$WORK/grants.done" ] || { [ "$(converged_count mcpaccessgrants)" -eq "$GRANTS" ] && date +%s.%N >"$WORK/grants.done"; }
  fi
  (( SECONDS - watch_started > CONVERGE_TIMEOUT )) \
    && die "not converged after ${CONVERGE_TIMEOUT}s (peak RSS $(mib "$(field VmHWM)") MiB)"
  sleep 0.2
done
elapsed=$(sort -n "$WORK/servers.done" "$WORK/grants.done" | tail -1 | awk -v a="$started" '{ printf "%.1f", $1 - a }')
for pid in "${WATCH_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
converge_seconds=$elapsed
hwm_converged=$(field VmHWM)
writes_converge=$(( $(write_requests | operator_writes) - writes_before_start ))
log "converged in ${converge_seconds}s: peak RSS so far $(mib "$hwm_converged") MiB"

# Let kube-controller-manager finish its ReplicaSets and Pods.
settle_started=$SECONDS
while :; do
  pending=$(kubectl get deployments -n "$NS" --no-headers \
    -o custom-columns=G:.metadata.generation,O:.status.observedGeneration,R:.status.replicas \
    | awk '!($1 == $2 && $3 == 1) { n++ } END { print n + 0 }')
  [ "$pending" -eq 0 ] && break
  (( SECONDS - settle_started > SETTLE_TIMEOUT )) && die "kube-controller-manager did not settle: $pending deployments pending"
  sleep 2
done
# The operator reacts to the last Deployment status updates: wait until the servers stop changing.
previous=
while :; do
  current=$(kubectl get mcpservers -n "$NS" --no-headers -o custom-columns=V:.metadata.resourceVersion | md5sum)
  [ "$current" = "$previous" ] && break
  previous=$current
  sleep 3
done
log "kube-controller-manager settled after $((SECONDS - settle_started))s; steady state for ${STEADY}s"

reconciles() {
  curl -sf "http://127.0.0.1:$ADMIN_PORT/metrics" \
    | awk '/^mcp_runtime_operator_reconciles_total/ { n += $NF } END { print n + 0 }'
}
requests_a=$(write_requests)
versions_a=$(versions)
reconciles_a=$(reconciles)
sleep "$STEADY"
requests_b=$(write_requests)
versions_b=$(versions)
reconciles_b=$(reconciles)
kill -0 "$OPERATOR_PID" 2>/dev/null || die "the operator exited during the steady state"
hwm=$(field VmHWM)
rss=$(field VmRSS)
threads=$(field Threads)

# A grant change at this scale: raise one grant's maxTrust and time until its server's policy
# ConfigMap carries it (polled; each poll is one GET, so the figure is good to about 0.1 s).
grant_change_seconds=-
if ((GRANTS > 0)); then
  grant_server=$(kubectl get mcpaccessgrant grant-0000 -n "$NS" -o jsonpath='{.spec.serverRef.name}')
  rendered_trust() {
    kubectl get configmap "$grant_server-gateway-policy" -n "$NS" -o json \
      | jq -r '.data["policy.json"] | fromjson | .grants[] | select(.name == "grant-0000") | .max_trust'
  }
  [ "$(rendered_trust)" = medium ] || die "grant-0000 is not rendered with maxTrust medium"
  changed=$(date +%s.%N)
  kubectl patch mcpaccessgrant grant-0000 -n "$NS" --type merge -p '{"spec":{"maxTrust":"high"}}' >/dev/null
  until [ "$(rendered_trust)" = high ]; do
    awk -v a="$changed" -v b="$(date +%s.%N)" 'BEGIN { exit !(b - a > 60) }' && die "the grant change was not rendered within 60 s"
  done
  grant_change_seconds=$(awk -v a="$changed" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
fi

steady_writes=$(( $(operator_writes <<<"$requests_b") - $(operator_writes <<<"$requests_a") ))
changed_objects=$(diff <(sort <<<"$versions_a") <(sort <<<"$versions_b") | grep -c '^>' || true)
object_count=$(wc -l <<<"$versions_a")

echo
echo "Operator on a real API server: $SERVERS MCPServers, $GRANTS MCPAccessGrants ($object_count objects watched in the namespace)"
echo "binary:                      $BIN"
echo "create -> all reconciled:    ${converge_seconds} s (target <= 60 s)"
echo "operator writes until then:  $writes_converge"
echo "peak RSS (VmHWM):            $(mib "$hwm") MiB (at convergence $(mib "$hwm_converged") MiB; target <= 100 MB = 95.4 MiB)"
echo "RSS now (VmRSS):             $(mib "$rss") MiB, $threads threads"
echo "steady state (${STEADY} s):       $steady_writes operator write requests, $changed_objects objects changed, $((reconciles_b - reconciles_a)) reconciles"
echo "grant change -> rendered:    ${grant_change_seconds} s (grant-0000's maxTrust in its server's policy ConfigMap; target <= 1 s)"
if [ "$steady_writes" -ne 0 ]; then
  echo "write requests during the steady state (verb group resource subresource count):"
  join -a2 <(awk '{ print $1"|"$2"|"$3"|"$4, $5 }' <<<"$requests_a" | sort) \
    <(awk '{ print $1"|"$2"|"$3"|"$4, $5 }' <<<"$requests_b" | sort) \
    | awk 'NF == 3 && $3 != $2 { print "  " $1, $3 - $2 } NF == 2 { print "  " $1, $2 }'
fi

ok=1
awk -v s="$converge_seconds" 'BEGIN { exit !(s <= 60) }' || ok=0
[ "$hwm" -le 97656 ] || ok=0   # VmHWM is in KiB: 100 MB = 97,656 KiB
[ "$steady_writes" -eq 0 ] && [ "$changed_objects" -eq 0 ] || ok=0
[ "$grant_change_seconds" = - ] || awk -v s="$grant_change_seconds" 'BEGIN { exit !(s <= 1) }' || ok=0
[ "$ok" = 1 ] && echo "targets: met" || { echo "targets: NOT met"; exit 1; }
