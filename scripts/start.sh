#!/usr/bin/env bash
# The README's run command (`npm start`): installs what is missing, brings up the local stack (Kafka, Postgres,
# Redis; ClickHouse embedded), migrates, seeds the demo, and runs the platform: a mail sink, a stand-in upstream
# API, the control plane (ingest + analyzer + enforcer + dashboard), the edge, and the demo traffic simulator.
# Ctrl-C stops everything it started. Logs: .data/logs/<process>.log.
#
#   npm start                 the whole demo
#   npm start -- --no-demo    the platform without simulated traffic
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
export TZ=UTC

demo=1
for arg in "$@"; do
  case "$arg" in
    --no-demo) demo=0 ;;
    *) echo "unknown option $arg (known: --no-demo)" >&2; exit 2 ;;
  esac
done

log_dir="$root/.data/logs"
mkdir -p "$log_dir"
say() { printf '\033[1m[usageguard]\033[0m %s\n' "$*"; }

if [ ! -d node_modules ]; then
  say "installing dependencies (npm install, once)"
  npm install --no-audit --no-fund
fi

say "starting the local stack"
bash stack/stack.sh up
npm run -s db:migrate
npm run -s db:seed

if node -e 'process.exit(require("./package.json").scripts["build:web"] ? 0 : 1)'; then
  if [ ! -f apps/dashboard/web/dist/index.html ]; then
    say "building the dashboard UI (once)"
    npm run -s build:web
  fi
fi

pids=()
names=()
cleanup() {
  trap - INT TERM EXIT
  say "stopping"
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT

run() {
  local name=$1
  shift
  "$@" >"$log_dir/$name.log" 2>&1 &
  pids+=($!)
  names+=("$name")
}

wait_http() {
  local name=$1 url=$2
  for ((i = 0; i < 240; i++)); do
    if curl -fsS -o /dev/null "$url" 2>/dev/null; then return 0; fi
    for j in "${!pids[@]}"; do
      if ! kill -0 "${pids[$j]}" 2>/dev/null; then
        say "${names[$j]} exited; last lines of its log:"
        tail -n 30 "$log_dir/${names[$j]}.log" >&2
        exit 1
      fi
    done
    sleep 0.5
  done
  say "$name did not answer at $url (log: $log_dir/$name.log)"
  exit 1
}

ts_node=(node -r @swc-node/register)
eval "$("${ts_node[@]}" scripts/print-config.ts)"

say "starting the mail sink (maildev)"
run maildev node_modules/.bin/maildev --smtp "$smtp_port" --web 1080 --ip 127.0.0.1 --web-ip 127.0.0.1 --silent
say "starting the demo upstream API"
run upstream "${ts_node[@]}" apps/cli/src/main.ts demo-upstream --port "$upstream_port"
say "starting the control plane (ingest, analyzer, enforcer, dashboard)"
# The demo runs the analyzer every 30 s (default 60) so flags appear quickly. The ingest consumer in it allocates per
# event: a larger young generation (as the edge's, and as `npm run bench -- ingest` measures it) means rarer scavenges.
run control-plane env ANALYZER_INTERVAL_SECONDS="${ANALYZER_INTERVAL_SECONDS:-30}" \
  node --max-semi-space-size=64 -r @swc-node/register apps/control-plane/main.ts
say "starting the edge"
# The simulator plays many clients from one machine, telling the edge their addresses in X-Forwarded-For;
# trust it only in the demo (in production only behind your own load balancer).
# A larger young generation: the edge allocates per request, and rarer scavenges keep its tail latency down.
run edge env EDGE_TRUST_PROXY="${EDGE_TRUST_PROXY:-true}" node --max-semi-space-size=64 -r @swc-node/register \
  apps/edge/src/main.ts

wait_http "mail sink" "http://127.0.0.1:1080/"
wait_http upstream "http://127.0.0.1:$upstream_port/"
wait_http control-plane "http://$http_host:$dashboard_port/health"
wait_http edge "http://127.0.0.1:$edge_admin_port/health"

if [ "$demo" = 1 ]; then
  say "starting the traffic simulator"
  run simulator "${ts_node[@]}" apps/cli/src/main.ts simulate
fi

cat <<EOF

  UsageGuard is running.

  Dashboard     http://$http_host:$dashboard_port/        login admin@usageguard.local / usageguard-demo
  API docs      http://$http_host:$dashboard_port/docs
  Edge          http://127.0.0.1:$edge_port/        try: curl -H 'Authorization: Bearer ug_demo_acme_backend_0000000000000000' http://127.0.0.1:$edge_port/v1/things
  Mail sink     http://127.0.0.1:1080/
  Health        http://$http_host:$dashboard_port/health  (edge: http://127.0.0.1:$edge_admin_port/health)
  Metrics       http://$http_host:$dashboard_port/metrics (edge: http://127.0.0.1:$edge_admin_port/metrics)
  Logs          $log_dir/

  Press Ctrl-C to stop.

EOF

# Stay up while the platform runs; if one of its processes dies, say which and stop the rest.
while true; do
  for j in "${!pids[@]}"; do
    if ! kill -0 "${pids[$j]}" 2>/dev/null; then
      if [ "${names[$j]}" = simulator ]; then
        say "the simulator finished; the platform keeps running"
        unset 'pids[j]' 'names[j]'
        continue
      fi
      say "${names[$j]} exited; last lines of its log:"
      tail -n 30 "$log_dir/${names[$j]}.log" >&2
      exit 1
    fi
  done
  sleep 2
done
