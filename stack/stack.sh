#!/usr/bin/env bash
# The local stack: real Kafka (KRaft, from Maven Central jars), Postgres and Redis (the machine's own, started or
# installed when absent). ClickHouse needs nothing here: it runs embedded through chDB inside the control plane.
#
#   stack/stack.sh up | down | status
#
# Idempotent: services that already answer are reused; Kafka's jars and data live in the user cache, so a second
# `up` takes seconds. Only what this script started is stopped by `down` (Kafka); Postgres and Redis belong to the
# machine and are left running.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)

KAFKA_VERSION=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/kafka/pom.xml")
CACHE_DIR="${USAGEGUARD_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/usageguard}"
KAFKA_HOME="$CACHE_DIR/kafka-$KAFKA_VERSION"
KAFKA_DATA="${USAGEGUARD_KAFKA_DATA:-$CACHE_DIR/kafka-data}"
KAFKA_HOST="${KAFKA_HOST:-127.0.0.1}"
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
KAFKA_HEAP="${KAFKA_HEAP:-512m}"
PG_HOST="${PGHOST:-127.0.0.1}"
PG_PORT="${PGPORT:-5432}"
REDIS_HOST="${REDIS_HOST:-127.0.0.1}"
REDIS_PORT="${REDIS_PORT:-6379}"

log() { printf '[stack] %s\n' "$*"; }
port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }
wait_port() {
  local host=$1 port=$2 name=$3 tries=${4:-120}
  for ((i = 0; i < tries; i++)); do
    port_open "$host" "$port" && return 0
    sleep 0.5
  done
  log "$name did not answer on $host:$port"
  return 1
}
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

postgres_up() {
  if pg_isready -q -h "$PG_HOST" -p "$PG_PORT" 2>/dev/null; then return 0; fi
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    log "installing PostgreSQL (apt)"
    as_root apt-get update -qq && DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq postgresql >/dev/null
  fi
  local version
  version=$(ls /etc/postgresql | sort -n | tail -n 1)
  log "starting PostgreSQL $version"
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for ((i = 0; i < 60; i++)); do pg_isready -q -h "$PG_HOST" -p "$PG_PORT" && return 0; sleep 0.5; done
  log "PostgreSQL did not start"
  return 1
}

redis_up() {
  if redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping >/dev/null 2>&1; then return 0; fi
  if ! command -v redis-server >/dev/null 2>&1; then
    log "installing Redis (apt)"
    as_root apt-get update -qq && DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq redis-server >/dev/null
  fi
  log "starting Redis"
  redis-server --daemonize yes --bind "$REDIS_HOST" --port "$REDIS_PORT" --save "" --appendonly no >/dev/null
  wait_port "$REDIS_HOST" "$REDIS_PORT" Redis 40
}

kafka_fetch() {
  if [ -f "$KAFKA_HOME/.complete" ]; then return 0; fi
  log "fetching Apache Kafka $KAFKA_VERSION jars from Maven Central (once; cached in $KAFKA_HOME)"
  mkdir -p "$KAFKA_HOME/libs"
  mvn -q -B -f "$here/kafka/pom.xml" dependency:copy-dependencies \
    -DoutputDirectory="$KAFKA_HOME/libs" -DincludeScope=runtime
  touch "$KAFKA_HOME/.complete"
}

kafka_configure() {
  mkdir -p "$KAFKA_DATA"
  cat >"$KAFKA_DATA/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$KAFKA_HOST:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT,CONTROLLER://$KAFKA_HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$KAFKA_DATA/logs
# kafkajs misbehaves when subscribing to auto-created topics on KRaft: topics are created through the admin API.
auto.create.topics.enable=false
num.partitions=6
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
# Consumers of a fresh group join at once instead of waiting 3 s for more members (tests start many groups).
group.initial.rebalance.delay.ms=0
log.retention.hours=168
log.segment.bytes=268435456
num.network.threads=2
num.io.threads=4
EOF
  cat >"$KAFKA_DATA/log4j.properties" <<EOF
log4j.rootLogger=WARN, file
log4j.logger.kafka=INFO
log4j.logger.org.apache.kafka=WARN
log4j.appender.file=org.apache.log4j.RollingFileAppender
log4j.appender.file.File=$KAFKA_DATA/server.log
log4j.appender.file.MaxFileSize=20MB
log4j.appender.file.MaxBackupIndex=2
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
EOF
}

kafka_java_args() {
  java_args=(-Xmx"$KAFKA_HEAP" -Xms128m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true
    -Dlog4j.configuration="file:$KAFKA_DATA/log4j.properties" -cp "$KAFKA_HOME/libs/*")
}
kafka_java() {
  local java_args
  kafka_java_args
  java "${java_args[@]}" "$@"
}

kafka_up() {
  if port_open "$KAFKA_HOST" "$KAFKA_PORT"; then return 0; fi
  kafka_fetch
  kafka_configure
  if [ ! -f "$KAFKA_DATA/logs/meta.properties" ]; then
    local cluster_id
    cluster_id=$(kafka_java kafka.tools.StorageTool random-uuid)
    log "formatting Kafka storage (cluster $cluster_id)"
    kafka_java kafka.tools.StorageTool format -t "$cluster_id" -c "$KAFKA_DATA/server.properties" >/dev/null
  fi
  log "starting Kafka $KAFKA_VERSION on $KAFKA_HOST:$KAFKA_PORT (heap $KAFKA_HEAP)"
  local java_args
  kafka_java_args
  nohup java "${java_args[@]}" kafka.Kafka "$KAFKA_DATA/server.properties" >"$KAFKA_DATA/stdout.log" 2>&1 &
  echo $! >"$KAFKA_DATA/kafka.pid"
  if ! wait_port "$KAFKA_HOST" "$KAFKA_PORT" Kafka 120; then
    tail -n 30 "$KAFKA_DATA/stdout.log" "$KAFKA_DATA/server.log" 2>/dev/null || true
    return 1
  fi
}

kafka_down() {
  local pid_file="$KAFKA_DATA/kafka.pid"
  if [ -f "$pid_file" ] && kill -0 "$(cat "$pid_file")" 2>/dev/null; then
    local pid
    pid=$(cat "$pid_file")
    log "stopping Kafka (pid $pid)"
    kill "$pid"
    for ((i = 0; i < 60; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    rm -f "$pid_file"
  fi
}

topics_up() {
  (cd "$root" && node -r @swc-node/register scripts/kafka-topics.ts)
}

status_line() {
  local name=$1 address=$2 ok=$3 detail=${4:-}
  if [ "$ok" = 1 ]; then
    printf '  %-11s %-28s \033[32mup\033[0m    %s\n' "$name" "$address" "$detail"
  else
    printf '  %-11s %-28s \033[31mdown\033[0m  %s\n' "$name" "$address" "$detail"
  fi
}

status() {
  local all=0
  echo "UsageGuard stack"
  if pg_isready -q -h "$PG_HOST" -p "$PG_PORT" 2>/dev/null; then status_line postgres "$PG_HOST:$PG_PORT" 1; else status_line postgres "$PG_HOST:$PG_PORT" 0; all=1; fi
  if redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping >/dev/null 2>&1; then status_line redis "$REDIS_HOST:$REDIS_PORT" 1; else status_line redis "$REDIS_HOST:$REDIS_PORT" 0; all=1; fi
  if port_open "$KAFKA_HOST" "$KAFKA_PORT"; then status_line kafka "$KAFKA_HOST:$KAFKA_PORT" 1 "KRaft, $KAFKA_VERSION"; else status_line kafka "$KAFKA_HOST:$KAFKA_PORT" 0; all=1; fi
  if [ -n "${CLICKHOUSE_URL:-}" ]; then
    if curl -fsS "${CLICKHOUSE_URL%/}/ping" >/dev/null 2>&1; then status_line clickhouse "$CLICKHOUSE_URL" 1 server; else status_line clickhouse "$CLICKHOUSE_URL" 0 server; all=1; fi
  elif [ -f "$root/node_modules/@chdb/lib-linux-x64-gnu/package.json" ] || [ -d "$root/node_modules/chdb" ]; then
    status_line clickhouse "chdb:${CHDB_PATH:-.data/chdb}" 1 "embedded in the control plane"
  else
    status_line clickhouse chdb 0 "run npm ci"; all=1
  fi
  return $all
}

case "${1:-}" in
  up)
    postgres_up
    redis_up
    kafka_up
    topics_up
    status
    ;;
  down) kafka_down ;;
  status) status ;;
  *)
    echo "usage: $0 up|down|status" >&2
    exit 2
    ;;
esac
