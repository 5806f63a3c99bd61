#!/usr/bin/env bash
# A real Apache Kafka 4.x in KRaft mode, no Docker: one combined broker + controller, or a
# cluster of N such nodes (N controllers form the quorum; every node is also a broker).
#
#   infra/kafka.sh start DIR [PORT] [--brokers N] [--host ADDR]
#                                     resolve jars (once), format, start, wait, create topics
#   infra/kafka.sh restart DIR        stop and start again on the same ports, keeping the data
#   infra/kafka.sh stop DIR           SIGTERM, wait, then SIGKILL (every node of a cluster)
#   infra/kafka.sh status DIR         running and answering?
#   infra/kafka.sh topics DIR         create the Harmonize topics (idempotent) and list them
#   infra/kafka.sh kill DIR NODE      SIGKILL one node of a cluster (1..N): a broker lost
#   infra/kafka.sh start-node DIR NODE  start that node again (same ports, same data)
#   infra/kafka.sh jars               only resolve the jars into the cache
#
# `start` prints the bootstrap address as its last line (HOST:PORT, or HOST:P1,HOST:P2,...
# for a cluster); it is also in DIR/bootstrap. PORT 0 or none picks free ports (a cluster's
# nodes take PORT, PORT+1, ...); the controller ports are always free-picked. HOST
# (default 127.0.0.1) is where the nodes listen and what they advertise: give a bridge
# address (infra/netns.sh) to reach the cluster from other network namespaces.
#
# With --brokers N (N >= 3) the topics get replication factor 3 and min.insync.replicas=2,
# the internal topics too: with the producer's acks=all, one node can be lost without
# losing an acknowledged event or stopping writes. A cluster keeps node I in DIR/node-I/.
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
  python3 -c 'import socket, sys; s=socket.socket(); s.bind((sys.argv[1], 0)); print(s.getsockname()[1]); s.close()' "${1:-127.0.0.1}"
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

# the node directories of DIR: DIR itself for one broker, DIR/node-1.. for a cluster
nodes() {
  local dir="$1"
  if [[ -f "$dir/brokers" ]]; then
    local n
    n="$(cut -d' ' -f1 "$dir/brokers")"
    for i in $(seq 1 "$n"); do echo "$dir/node-$i"; done
  else
    echo "$dir"
  fi
}

write_config() {
  local dir="$1" port="$2" cport="$3" node="$4" voters="$5" host="$6" replicas="$7" isr="$8"
  local role="one KRaft node, broker and controller combined"
  [[ "$replicas" -gt 1 ]] && role="node $node of a KRaft cluster, broker and controller combined"
  mkdir -p "$dir/data" "$dir/logs"
  cat >"$dir/server.properties" <<EOF
# written by infra/kafka.sh: $role
process.roles=broker,controller
node.id=$node
controller.quorum.voters=$voters
listeners=PLAINTEXT://$host:$port,CONTROLLER://$host:$cport
advertised.listeners=PLAINTEXT://$host:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$dir/data
num.partitions=3
auto.create.topics.enable=true
offsets.topic.replication.factor=$replicas
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=$replicas
transaction.state.log.min.isr=$isr
transaction.state.log.num.partitions=3
share.coordinator.state.topic.replication.factor=$replicas
share.coordinator.state.topic.min.isr=$isr
group.initial.rebalance.delay.ms=0
log.flush.interval.messages=1
EOF
  if [[ "$replicas" -gt 1 ]]; then
    cat >>"$dir/server.properties" <<EOF
default.replication.factor=$replicas
min.insync.replicas=$isr
EOF
  fi
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
  echo "$host" >"$dir/host"
}

# start the java process of one node directory (formatted on first use, with CLUSTER_ID)
launch_node() {
  local dir="$1" cluster_id="${2:-}" jardir
  jardir="$(jars)"
  local java_opts=($HEAP -XX:+UseG1GC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true
    "-Dlog4j2.configurationFile=file:$dir/log4j2.properties")
  if [[ ! -f "$dir/data/meta.properties" ]]; then
    [[ -n "$cluster_id" ]] \
      || cluster_id="$(java -cp "$jardir/*" kafka.tools.StorageTool random-uuid 2>>"$dir/logs/format.log")"
    java "${java_opts[@]}" -cp "$jardir/*" kafka.tools.StorageTool format \
      -t "$cluster_id" -c "$dir/server.properties" >>"$dir/logs/format.log" 2>&1 \
      || { cat "$dir/logs/format.log" >&2; die "formatting the KRaft storage in $dir failed"; }
  fi
  setsid nohup java "${java_opts[@]}" -cp "$jardir/*" kafka.Kafka "$dir/server.properties" \
    >>"$dir/logs/kafka.out" 2>&1 </dev/null &
  echo $! >"$dir/kafka.pid"
}

node_address() {
  local host=127.0.0.1
  [[ -f "$1/host" ]] && host="$(cat "$1/host")"
  echo "$host:$(cut -d' ' -f1 "$1/ports")"
}

# start every node of DIR, wait until all answer, create the topics; print the bootstrap
launch() {
  local dir="$1" cluster_id="" n=1 replicas=1 isr="" boot="" node
  if [[ -f "$dir/brokers" ]]; then
    read -r n replicas isr <"$dir/brokers"
    [[ -s "$dir/cluster.id" ]] \
      || java -cp "$(jars)/*" kafka.tools.StorageTool random-uuid >"$dir/cluster.id" 2>/dev/null
    cluster_id="$(cat "$dir/cluster.id")"
  fi
  mkdir -p "$dir/logs"
  for node in $(nodes "$dir"); do
    launch_node "$node" "$cluster_id"
    boot="${boot:+$boot,}$(node_address "$node")"
  done
  echo "$boot" >"$dir/bootstrap"
  local admin=(topics "$boot" --timeout "$READY_TIMEOUT")
  [[ "$n" -gt 1 ]] && admin+=(--brokers "$n" --replication-factor "$replicas" --min-insync-replicas "$isr")
  if ! python_cmd -m harmonize.events.admin "${admin[@]}" >"$dir/logs/topics.log" 2>&1; then
    cat "$dir/logs/topics.log" >&2
    for node in $(nodes "$dir"); do
      tail -n 30 "$node/logs/kafka.out" "$node/logs/server.log" >&2 2>/dev/null || true
    done
    stop "$dir" >/dev/null
    die "the broker did not become ready"
  fi
  cat "$dir/logs/topics.log" >&2
  echo "$boot"
}

start() {
  local dir port="$2" brokers="$3" host="$4" node
  dir="$(mkdir -p "$1" && cd "$1" && pwd)"
  for node in $(nodes "$dir"); do
    pid_of "$node" >/dev/null && die "already running in $dir (pid $(cat "$node/kafka.pid"))"
  done
  command -v java >/dev/null || die "Java 17+ is needed (apt-get install openjdk-17-jre-headless)"
  [[ "$brokers" =~ ^[0-9]+$ && "$brokers" -ge 1 ]] || die "--brokers takes a number >= 1"
  if [[ "$brokers" == 1 ]]; then
    local cport
    [[ "$port" == 0 ]] && port="$(free_port "$host")"
    cport="$(free_port "$host")"
    write_config "$dir" "$port" "$cport" 1 "1@$host:$cport" "$host" 1 1
  else
    # replication factor 3 (or N below 3) and min.insync.replicas one less
    local replicas=$((brokers < 3 ? brokers : 3)) isr voters="" ports=() cports=() i
    isr=$((replicas - 1))
    for i in $(seq 1 "$brokers"); do
      if [[ "$port" == 0 ]]; then ports+=("$(free_port "$host")"); else ports+=($((port + i - 1))); fi
      cports+=("$(free_port "$host")")
      voters="${voters:+$voters,}$i@$host:${cports[$((i - 1))]}"
    done
    echo "$brokers $replicas $isr" >"$dir/brokers"
    for i in $(seq 1 "$brokers"); do
      write_config "$dir/node-$i" "${ports[$((i - 1))]}" "${cports[$((i - 1))]}" "$i" "$voters" \
        "$host" "$replicas" "$isr"
    done
  fi
  launch "$dir"
}

restart() {
  local dir
  dir="$(cd "$1" && pwd)"
  [[ -f "$(nodes "$dir" | head -n 1)/ports" ]] || die "no broker was started in $dir"
  stop "$dir" >/dev/null
  launch "$dir"
}

stop_node() {
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

stop() {
  local dir="$1" node
  if [[ ! -f "$dir/brokers" ]]; then
    stop_node "$dir"
    return
  fi
  # a cluster's nodes stop together: stopped one by one, the last would wait for a quorum
  # that is gone before giving up
  for node in $(nodes "$dir"); do
    mkdir -p "$node/logs"
    stop_node "$node" >"$node/logs/stop.out" 2>&1 &
  done
  wait
  for node in $(nodes "$dir"); do echo "$(basename "$node"): $(cat "$node/logs/stop.out")"; done
}

node_dir() {
  local dir="$1" node="$2"
  [[ -f "$dir/brokers" ]] || die "$dir holds one broker, not a cluster (start one with --brokers N)"
  [[ "$node" =~ ^[0-9]+$ && -d "$dir/node-$node" ]] \
    || die "no node $node in $dir (nodes 1..$(cut -d' ' -f1 "$dir/brokers"))"
  echo "$dir/node-$node"
}

kill_node() {
  local node pid
  node="$(node_dir "$1" "$2")"
  pid="$(pid_of "$node")" || { echo "node $2 is not running"; return 0; }
  kill -KILL "$pid"
  while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
  rm -f "$node/kafka.pid"
  echo "killed node $2 (pid $pid)"
}

start_node() {
  local dir="$1" node
  node="$(node_dir "$dir" "$2")"
  pid_of "$node" >/dev/null && die "node $2 is already running"
  launch_node "$node" "$(cat "$dir/cluster.id")"
  python_cmd -m harmonize.events.admin wait "$(node_address "$node")" --timeout "$READY_TIMEOUT" \
    >/dev/null || die "node $2 did not become ready"
  node_address "$node"
}

status() {
  local dir="$1" node pid running=()
  for node in $(nodes "$dir"); do
    if pid="$(pid_of "$node")"; then running+=("$pid"); fi
  done
  [[ ${#running[@]} -gt 0 ]] || { echo "not running"; return 1; }
  if python_cmd -m harmonize.events.admin wait "$(cat "$dir/bootstrap")" --timeout 5 >/dev/null 2>&1; then
    echo "running pid ${running[*]} at $(cat "$dir/bootstrap")"
  else
    echo "pid ${running[*]} is not answering at $(cat "$dir/bootstrap")"
    return 1
  fi
}

topics() {
  local dir="$1" n replicas isr admin=()
  for node in $(nodes "$dir"); do
    pid_of "$node" >/dev/null && break
  done || die "not running in $dir"
  if [[ -f "$dir/brokers" ]]; then
    read -r n replicas isr <"$dir/brokers"
    admin=(--replication-factor "$replicas" --min-insync-replicas "$isr")
  fi
  python_cmd -m harmonize.events.admin topics "$(cat "$dir/bootstrap")" "${admin[@]}"
}

# options may come anywhere: --brokers N, --host ADDR
args=()
brokers=1
host=127.0.0.1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --brokers) [[ $# -ge 2 ]] || die "--brokers needs a number"; brokers="$2"; shift 2 ;;
    --brokers=*) brokers="${1#*=}"; shift ;;
    --host) [[ $# -ge 2 ]] || die "--host needs an address"; host="$2"; shift 2 ;;
    --host=*) host="${1#*=}"; shift ;;
    *) args+=("$1"); shift ;;
  esac
done
set -- "${args[@]}"

usage="usage: kafka.sh start DIR [PORT] [--brokers N] [--host ADDR] | restart DIR | stop DIR"
usage+=" | status DIR | topics DIR | kill DIR NODE | start-node DIR NODE | jars"
cmd="${1:-}"
case "$cmd" in
  start) [[ $# -ge 2 && $# -le 3 ]] || die "$usage"; start "$2" "${3:-0}" "$brokers" "$host" ;;
  restart) [[ $# -eq 2 ]] || die "$usage"; restart "$2" ;;
  stop) [[ $# -eq 2 ]] || die "$usage"; stop "$(cd "$2" && pwd)" ;;
  status) [[ $# -eq 2 ]] || die "$usage"; status "$(cd "$2" && pwd)" ;;
  topics) [[ $# -eq 2 ]] || die "$usage"; topics "$(cd "$2" && pwd)" ;;
  kill) [[ $# -eq 3 ]] || die "$usage"; kill_node "$(cd "$2" && pwd)" "$3" ;;
  start-node) [[ $# -eq 3 ]] || die "$usage"; start_node "$(cd "$2" && pwd)" "$3" ;;
  jars) jars ;;
  *) die "$usage" ;;
esac
