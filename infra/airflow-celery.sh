# shellcheck shell=bash
# The CeleryExecutor part of infra/airflow.sh (sourced by it; not run on its own).
#
#   infra/airflow.sh start DIR --executor celery --workers N --db postgresql+psycopg://... \
#       [--netns NAME] [--kafka HOST:PORT]
#
# What runs where:
#
#   services namespace (this one)          host namespaces NAME-h1 .. NAME-hN
#   ------------------------------         ----------------------------------------------
#   api-server, scheduler, dag-processor,  `airflow celery worker`, one per host, with
#   triggerer (as with the LocalExecutor)  its own address (infra/netns.sh), hostname
#   Redis (Debian's redis-server): the      (a UTS namespace: task instances record it),
#     Celery broker, on the bridge address  empty workspace DIR/hosts/hI (HARMONIZE_WORKSPACE,
#   PostgreSQL (--db): metadata DB and      AIRFLOW_HOME, TMPDIR, HOME, task logs and the
#     Celery result backend                 ontology cache are all inside it)
#   Kafka, the S3 server: the caller's
#
# The hosts reach every service over the bridge (ADDR.1, `infra/netns.sh hosts NAME`):
# the api-server's execution API, Redis, PostgreSQL, Kafka and S3. So give --db, --kafka
# and HARMONIZE_EVENTS_URL / HARMONIZE_S3_ENDPOINT_URL / HARMONIZE_REGISTRY_URL with the
# bridge address (start them with `--host ADDR.1`: infra/postgres.sh, infra/kafka.sh), and
# an S3 warehouse (HARMONIZE_WAREHOUSE=s3://...): the tasks then hand their files to each
# other through it (harmonize/orchestrate/handoff.py), never through a shared disk.
#
# Task logs: with an S3 warehouse every process logs tasks to <warehouse>/airflow-logs/
# (Airflow's remote logging, apache-airflow-providers-amazon), where the api-server reads
# them: a worker host's disk is not reachable from the api-server (see celery_remote_logging).
#
# Each worker runs in a mount namespace where / is read-only and only its workspace is
# writable (AIRFLOW_HOSTS_READ_ONLY=0 turns that off): a write anywhere else fails. /dev/shm
# and /proc stay the host's own mounts. The repository (code, dags/, ontologies/) is read.
#
# Without --netns, `start` makes the namespaces (infra/netns.sh up) and `stop` deletes them;
# with --netns NAME it uses hosts made by the caller and leaves them. Needs root.

NETNS_SH="$ROOT/infra/netns.sh"

celery_netns_name() { # a short name from DIR, for interfaces of at most 15 characters
    echo "af$(echo -n "$1" | md5sum | cut -c1-5)"
}

# celery_prepare DIR N NETNS: namespaces, Redis; writes DIR/run/netns, DIR/run/services
celery_prepare() {
    local dir=$1 n=$2 name=$3 lines addr
    [[ $(id -u) == 0 ]] || die "--executor celery runs workers in network namespaces: needs root"
    command -v redis-server >/dev/null || die "redis-server not found (apt-get install redis-server)"
    if [[ -n $name ]]; then
        lines=$(bash "$NETNS_SH" hosts "$name")
        (($(grep -c -- "^$name-h" <<<"$lines") >= n)) || die "$name has fewer than $n hosts"
        echo "$name borrowed" >"$dir/run/netns"
    else
        name=$(celery_netns_name "$dir")
        bash "$NETNS_SH" down "$name" >/dev/null 2>&1 || true
        lines=$(bash "$NETNS_SH" up "$name" "$n")
        echo "$name owned" >"$dir/run/netns"
    fi
    addr=$(bash "$NETNS_SH" hosts "$name" | awk '$1 == "services" {print $2}')
    [[ -n $addr ]] || die "no services address for $name"
    local port
    port=$(free_port)
    mkdir -p "$dir/redis"
    setsid redis-server --bind "$addr" 127.0.0.1 --port "$port" --protected-mode no \
        --save "" --appendonly no --dir "$dir/redis" >"$dir/logs/redis.log" 2>&1 </dev/null &
    echo $! >"$dir/run/redis.pid"
    echo "$addr $port" >"$dir/run/services"
    local deadline=$((SECONDS + 30))
    until redis-cli -h "$addr" -p "$port" ping 2>/dev/null | grep -q PONG; do
        ((SECONDS < deadline)) || die "redis-server did not answer (see $dir/logs/redis.log)"
        sleep 0.2
    done
}

# the lines airflow.env gets for Celery (the DB URL is the --db one)
celery_env() {
    local dir=$1 db=$2 addr port backend
    read -r addr port <"$dir/run/services"
    backend="db+$db"
    echo "export AIRFLOW__CORE__EXECUTOR=CeleryExecutor"
    echo "export AIRFLOW__CELERY__BROKER_URL='redis://$addr:$port/0'"
    echo "export AIRFLOW__CELERY__RESULT_BACKEND='$backend'"
    echo "export AIRFLOW__CELERY__WORKER_CONCURRENCY=${AIRFLOW_CELERY_CONCURRENCY:-2}"
    # a task on a killed host is found by the scheduler and retried elsewhere once it has
    # not heartbeat for this long (Airflow 3's name; default 300 s). 30 s once failed a
    # healthy task whose host was busy: 60 s
    echo "export AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT=${AIRFLOW_HEARTBEAT_TIMEOUT:-60}"
    echo "export AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL=5"
    # the UTS hostname each host has (getfqdn would ask a DNS server the hosts cannot reach)
    echo "export AIRFLOW__CORE__HOSTNAME_CALLABLE=socket.gethostname"
    echo "export AIRFLOW__API__HOST='$addr'"
    celery_remote_logging
}

# Task logs to the S3 warehouse (the Amazon provider's S3 remote log handler), so the
# api-server reads a task's log from S3 instead of from the worker host that ran it (it
# cannot reach the hosts' disks, and their log servers only while they live). Only with
# HARMONIZE_WAREHOUSE=s3://...: under <warehouse>/airflow-logs/, through the `aws`
# connection harmonize_s3 (an AIRFLOW_CONN_ variable: HARMONIZE_S3_ENDPOINT_URL as its
# endpoint, the credentials from the usual AWS_* variables).
celery_remote_logging() {
    [[ ${HARMONIZE_WAREHOUSE:-} == s3://* ]] || return 0
    local extra
    extra="\"region_name\": \"${AWS_DEFAULT_REGION:-us-east-1}\""
    [[ -z ${HARMONIZE_S3_ENDPOINT_URL:-} ]] ||
        extra+=", \"endpoint_url\": \"$HARMONIZE_S3_ENDPOINT_URL\""
    echo "export AIRFLOW__LOGGING__REMOTE_LOGGING=True"
    echo "export AIRFLOW__LOGGING__REMOTE_BASE_LOG_FOLDER='${HARMONIZE_WAREHOUSE%/}/airflow-logs'"
    echo "export AIRFLOW__LOGGING__REMOTE_LOG_CONN_ID=harmonize_s3"
    printf 'export AIRFLOW_CONN_HARMONIZE_S3=%q\n' "{\"conn_type\": \"aws\", \"extra\": {$extra}}"
}

celery_api_address() {
    local addr
    read -r addr _ <"$1/run/services"
    echo "$addr"
}

# celery_start_workers DIR N: one `airflow celery worker` per host, then wait until each is ready
celery_start_workers() {
    local dir=$1 n=$2 name i ns ws airflow readonly
    read -r name _ <"$dir/run/netns"
    airflow=$(airflow_bin)
    readonly=${AIRFLOW_HOSTS_READ_ONLY:-1}
    for i in $(seq 1 "$n"); do
        ns="$name-h$i"
        ws="$dir/hosts/h$i"
        rm -rf "$ws"
        mkdir -p "$ws/tmp" "$ws/home" "$ws/airflow/logs"
        # shellcheck disable=SC2016
        setsid ip netns exec "$ns" unshare --mount --uts --propagation private \
            env HOSTNAME="$ns" WS="$ws" RO="$readonly" AIRFLOW="$airflow" HZ="$ROOT/.venv/bin/harmonize" \
            HARMONIZE_WORKSPACE="$ws" HARMONIZE_ONTOLOGY_CACHE="$ws/cache" \
            AIRFLOW_HOME="$ws/airflow" AIRFLOW__LOGGING__BASE_LOG_FOLDER="$ws/airflow/logs" \
            TMPDIR="$ws/tmp" HOME="$ws/home" PYTHONDONTWRITEBYTECODE=1 \
            sh -c 'set -e
                hostname "$HOSTNAME"
                mount --bind "$WS" "$WS"
                [ "$RO" = 0 ] || mount -o remount,bind,ro /
                cd "$WS"
                "$HZ" ontologies compile --cache-dir "$HARMONIZE_ONTOLOGY_CACHE" \
                    ${HARMONIZE_ONTOLOGIES_DIR:+--ontologies-dir "$HARMONIZE_ONTOLOGIES_DIR"} >/dev/null
                exec "$AIRFLOW" celery worker --celery-hostname "$HOSTNAME@$HOSTNAME" \
                    --concurrency "$AIRFLOW__CELERY__WORKER_CONCURRENCY"' \
            >"$dir/logs/worker-$i.log" 2>&1 </dev/null &
        echo $! >"$dir/run/worker-$i.pid"
    done
    local deadline=$((SECONDS + ${AIRFLOW_START_TIMEOUT:-180}))
    for i in $(seq 1 "$n"); do
        until grep -q "ready\." "$dir/logs/worker-$i.log" 2>/dev/null; do
            kill -0 "$(cat "$dir/run/worker-$i.pid")" 2>/dev/null ||
                die "celery worker $i exited (see $dir/logs/worker-$i.log)"
            ((SECONDS < deadline)) || die "celery worker $i not ready (see $dir/logs/worker-$i.log)"
            sleep 1
        done
    done
}

celery_workers() { # the worker numbers started from DIR
    local f
    for f in "$1"/run/worker-*.pid; do
        [[ -e $f ]] || continue
        f=${f##*/worker-}
        echo "${f%.pid}"
    done | sort -n
}

celery_stop() {
    local dir=$1 i pid name how
    for i in $(celery_workers "$dir"); do
        pid=$(cat "$dir/run/worker-$i.pid" 2>/dev/null || true)
        [[ -n $pid ]] && kill -TERM -- "-$pid" 2>/dev/null || true
    done
    local deadline=$((SECONDS + 20))
    for i in $(celery_workers "$dir"); do
        pid=$(cat "$dir/run/worker-$i.pid" 2>/dev/null || true)
        while [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.5; done
        [[ -n $pid ]] && kill -KILL -- "-$pid" 2>/dev/null || true
        rm -f "$dir/run/worker-$i.pid"
    done
    pid=$(cat "$dir/run/redis.pid" 2>/dev/null || true)
    [[ -n $pid ]] && kill -TERM -- "-$pid" 2>/dev/null || true
    rm -f "$dir/run/redis.pid"
    if [[ -f $dir/run/netns ]]; then
        read -r name how <"$dir/run/netns"
        [[ $how == owned ]] && bash "$NETNS_SH" down "$name" >/dev/null 2>&1 || true
        rm -f "$dir/run/netns"
    fi
}
