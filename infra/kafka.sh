#!/usr/bin/env bash
# A real Apache Kafka 4.x broker in KRaft mode (one combined broker + controller), no Docker.
#
#   infra/kafka.sh start DIR [PORT]   resolve jars (once), format DIR, start, wait, create topics
#   infra/kafka.sh restart DIR        stop and start again on the same ports, keeping the data
#   infra/kafka.sh stop DIR           SIGTERM, wait, then SIGKILL
#   infra/kafka.sh status DIR         running and answering?
#   infra/kafka.sh topics DIR         create the Harmonize topics (idempotent) and list them
#   infra/kafka.sh jars               only resolve the jars into the cache
#
# `start` prints the bootstrap address (127.0.0.1:PORT) as its last line; it is also in
# DIR/bootstrap. PORT 0 or none picks a free port; the controller port is always free-picked.
# The jars come from Maven Central (infra/kafka/pom.xml) into
# ${HARMONIZE_KAFKA_CACHE:-~/.cache/harmonize/kafka-VERSION}. Java 17+ is needed.
set -euo pipefail

KAFKA_VERSION="${KAFKA_VERSION:-4.1.1}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
CACHE="${HARMONIZE_KAFKA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/harmonize/kafka-$KAFKA_VERSION}"
HEAP="${KAFKA_HEAP:--Xms128m -Xmx512m}"
READY_TIMEOUT="${KAFKA_READY_TIMEOUT:-90}"

die() { echo "kafka.sh: $*" >&2; exit 1; }

python_cmd() {
  if [[ -x "$REPO/.venv/bin/python" ]]; then
    (cd "$REPO" && .venv/bin/python "$@")
  else
    (cd "$REPO" && uv run --frozen python "$@")
  fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

jars() {
  [[ -f "$CACHE/.complete" ]] && { echo "$CACHE/jars"; return; }
  command -v mvn >/dev/null || die "Maven (mvn) is needed to resolve the Kafka jars: apt-get install maven"
  mkdir -p "$CACHE"
  (
    flock 9
    if [[ ! -f "$CACHE/.complete" ]]; then
      rm -rf "$CACHE/jars.tmp"
      mvn -q -B -f "$HERE/kafka/pom.xml" -Dkafka.version="$KAFKA_VERSION" \
        dependency:copy-dependencies -DoutputDirectory="$CACHE/jars.tmp" >"$CACHE/mvn.log" 2>&1 \
        || { cat "$CACHE/mvn.log" >&2; die "resolving Kafka $KAFKA_VERSION jars failed"; }
      rm -rf "$CACHE/jars" && mv "$CACHE/jars.tmp" "$CACHE/jars" && touch "$CACHE/.complete"
    fi
  ) 9>"$CACHE/.lock"
  echo "$CACHE/jars"
}

pid_of() {
  local dir="$1"
  [[ -f "$dir/kafka.pid" ]] || return 1
  local pid
  pid="$(cat "$dir/kafka.pid")"
  kill -0 "$pid" 2>/dev/null || return 1
  echo "$pid"
}

write_config() {
  local dir="$1" port="$2" cport="$3"
  mkdir -p "$dir/data" "$dir/logs"
  cat >"$dir/server.properties" <<EOF
# written by infra/kafka.sh: one KRaft node, broker and controller combined
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$dir/data
num.partitions=3
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=3
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.flush.interval.messages=1
EOF
  cat >"$dir/log4j2.properties" <<EOF
status = warn
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = $dir/logs/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
logger.state.name = state.change.logger
logger.state.level = WARN
EOF
  echo "$port $cport" >"$dir/ports"
}

launch() {
  local dir="$1" jardir port
  jardir="$(jars)"
  port="$(cut -d' ' -f1 "$dir/ports")"
  local java_opts=($HEAP -XX:+UseG1GC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true
    "-Dlog4j2.configurationFile=file:$dir/log4j2.properties")
  if [[ ! -f "$dir/data/meta.properties" ]]; then
    local cluster_id
    cluster_id="$(java -cp "$jardir/*" kafka.tools.StorageTool random-uuid 2>>"$dir/logs/format.log")"
    java "${java_opts[@]}" -cp "$jardir/*" kafka.tools.StorageTool format \
      -t "$cluster_id" -c "$dir/server.properties" >>"$dir/logs/format.log" 2>&1 \
      || { cat "$dir/logs/format.log" >&2; die "formatting the KRaft storage failed"; }
  fi
  setsid nohup java "${java_opts[@]}" -cp "$jardir/*" kafka.Kafka "$dir/server.properties" \
    >>"$dir/logs/kafka.out" 2>&1 </dev/null &
  echo $! >"$dir/kafka.pid"
  echo "127.0.0.1:$port" >"$dir/bootstrap"
  if ! python_cmd -m harmonize.events.admin topics "127.0.0.1:$port" --timeout "$READY_TIMEOUT" >"$dir/logs/topics.log" 2>&1; then
    cat "$dir/logs/topics.log" >&2
    tail -n 30 "$dir/logs/kafka.out" "$dir/logs/server.log" >&2 2>/dev/null || true
    stop "$dir"
    die "the broker did not become ready"
  fi
  cat "$dir/logs/topics.log" >&2
  echo "127.0.0.1:$port"
}

start() {
  local dir port="${2:-0}"
  dir="$(mkdir -p "$1" && cd "$1" && pwd)"
  pid_of "$dir" >/dev/null && die "already running in $dir (pid $(cat "$dir/kafka.pid"))"
  command -v java >/dev/null || die "Java 17+ is needed (apt-get install openjdk-17-jre-headless)"
  [[ "$port" == 0 ]] && port="$(free_port)"
  write_config "$dir" "$port" "$(free_port)"
  launch "$dir"
}

restart() {
  local dir
  dir="$(cd "$1" && pwd)"
  [[ -f "$dir/ports" ]] || die "no broker was started in $dir"
  stop "$dir" >/dev/null
  launch "$dir"
}

stop() {
  local dir="$1" pid
  pid="$(pid_of "$dir")" || { rm -f "$dir/kafka.pid"; echo "not running"; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 300); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$dir/kafka.pid"; echo "stopped"; return 0; }
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$dir/kafka.pid"
  echo "killed"
}

status() {
  local dir="$1" pid
  pid="$(pid_of "$dir")" || { echo "not running"; return 1; }
  if python_cmd -m harmonize.events.admin wait "$(cat "$dir/bootstrap")" --timeout 5 >/dev/null 2>&1; then
    echo "running pid $pid at $(cat "$dir/bootstrap")"
  else
    echo "pid $pid is not answering at $(cat "$dir/bootstrap")"
    return 1
  fi
}

topics() {
  local dir="$1"
  pid_of "$dir" >/dev/null || die "not running in $dir"
  python_cmd -m harmonize.events.admin topics "$(cat "$dir/bootstrap")"
}

cmd="${1:-}"
case "$cmd" in
  start) [[ $# -ge 2 ]] || die "usage: kafka.sh start DIR [PORT]"; start "$2" "${3:-0}" ;;
  restart) [[ $# -eq 2 ]] || die "usage: kafka.sh restart DIR"; restart "$2" ;;
  stop) [[ $# -eq 2 ]] || die "usage: kafka.sh stop DIR"; stop "$(cd "$2" && pwd)" ;;
  status) [[ $# -eq 2 ]] || die "usage: kafka.sh status DIR"; status "$(cd "$2" && pwd)" ;;
  topics) [[ $# -eq 2 ]] || die "usage: kafka.sh topics DIR"; topics "$(cd "$2" && pwd)" ;;
  jars) jars ;;
  *) die "usage: kafka.sh start DIR [PORT] | restart DIR | stop DIR | status DIR | topics DIR | jars" ;;
esac
