#!/usr/bin/env bash
# Airflow 3 for Harmonize in one directory: api-server, scheduler, dag-processor and
# triggerer with the LocalExecutor, the repository's dags/ as the DAGs folder.
#
#   infra/airflow.sh start DIR [--db URL] [--kafka HOST:PORT]
#       AIRFLOW_HOME=DIR; metadata DB on SQLite (DIR/airflow.db) unless --db or
#       AIRFLOW_DB_URL names a PostgreSQL URL (infra/postgres.sh prints one); runs
#       `airflow db migrate`, starts the four processes in the background (pid files
#       DIR/run/*.pid, logs DIR/logs/*.log), waits until the api-server answers and the
#       harmonize DAGs are parsed, then unpauses them. Prints the api-server's URL.
#       The ingest DAG's trigger reads the broker (--kafka or HARMONIZE_KAFKA) from
#       HARMONIZE_EVENTS_URL, set here unless given. HARMONIZE_* variables in the caller's environment
#       (workspace, events URL, landing, scan schedule ...) reach the tasks.
#   infra/airflow.sh start DIR --executor celery --workers N --db postgresql+psycopg://...
#       [--netns NAME]: the CeleryExecutor, Redis as its broker, PostgreSQL as metadata DB
#       and result backend, and N Celery workers, each on its own "host" (a network
#       namespace with its own address, hostname and empty workspace DIR/hosts/hI). See
#       infra/airflow-celery.sh for the namespace setup. Needs root.
#   infra/airflow.sh stop DIR      stop every process started from DIR (TERM, then KILL);
#                                  with Celery also the workers, Redis and the namespaces
#   infra/airflow.sh status DIR    which processes run; exit 1 if any is down
#   infra/airflow.sh env DIR       print the environment to `source` for `airflow` commands
#
# Tuned for a 2-core machine and fast tests: parallelism 8, idle scheduler loops every
# 0.25 s, DAG folder re-listed every 5 s, no example DAGs, no default connections, DAGs
# unpaused at creation. The ingest DAG runs one `receive` task per CPU at once
# (HARMONIZE_RECEIVE_SLOTS; with Celery, workers x concurrency).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PROCESSES=(api-server scheduler dag-processor triggerer)
DAG_IDS=(harmonize_ingest harmonize_landing_scan harmonize_ontology_refresh)
# shellcheck source=infra/airflow-celery.sh
source "$ROOT/infra/airflow-celery.sh"

die() {
    echo "airflow.sh: $*" >&2
    exit 1
}

usage() {
    echo "usage: $0 start DIR [--db URL] [--kafka HOST:PORT] [--executor local|celery]" \
        "[--workers N] [--netns NAME] | stop DIR | status DIR | env DIR" >&2
    exit 2
}

airflow_bin() {
    if [[ -n "${AIRFLOW_BIN:-}" ]]; then
        echo "$AIRFLOW_BIN"
    elif [[ -x "$ROOT/.venv/bin/airflow" ]]; then
        echo "$ROOT/.venv/bin/airflow"
    else
        command -v airflow || die "airflow not found (run: make install)"
    fi
}

free_port() {
    "$ROOT/.venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

write_env() {
    local dir=$1 db=$2 kafka=$3 port=$4 host=${5:-127.0.0.1} secret
    secret=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
    {
        echo "export AIRFLOW_HOME='$dir'"
        echo "export AIRFLOW__CORE__DAGS_FOLDER='$ROOT/dags'"
        # infra/airflow/sitecustomize.py: pydantic 2.14 compatibility for Airflow's APIs
        echo "export PYTHONPATH='$ROOT/infra/airflow'\${PYTHONPATH:+:\$PYTHONPATH}"
        echo "export AIRFLOW__CORE__EXECUTOR=LocalExecutor"
        echo "export AIRFLOW__CORE__LOAD_EXAMPLES=False"
        # light tasks (receive, read, publish) should not queue behind the CPU-bound ones
        echo "export AIRFLOW__CORE__PARALLELISM=8"
        echo "export AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG=8"
        echo "export AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION=False"
        echo "export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS=True"
        echo "export AIRFLOW__CORE__EXECUTION_API_SERVER_URL='http://$host:$port/execution/'"
        echo "export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN='$db'"
        # Airflow's async engine would default to asyncpg; psycopg 3 (installed) is async too
        if [[ $db == postgresql+psycopg://* ]]; then
            echo "export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC='${db/postgresql+psycopg:/postgresql+psycopg_async:}'"
        fi
        echo "export AIRFLOW__DATABASE__LOAD_DEFAULT_CONNECTIONS=False"
        echo "export AIRFLOW__API__HOST=127.0.0.1"
        echo "export AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT=$AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT"
        echo "export AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT=$AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT"
        echo "export AIRFLOW__API__PORT=$port"
        echo "export AIRFLOW__API__BASE_URL='http://$host:$port'"
        echo "export AIRFLOW__API__WORKERS=1"
        echo "export AIRFLOW__API_AUTH__JWT_SECRET='$secret'"
        echo "export AIRFLOW__API_AUTH__JWT_ISSUER=harmonize-airflow"
        echo "export AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL=5"
        echo "export AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL=30"
        echo "export AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES=1"
        echo "export AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC=2"
        # an idle scheduler loop sleeps this long (default 1 s): a new asset event waits up
        # to one sleep for its run, and the run up to one more for its task to be queued
        echo "export AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME=0.25"
        echo "export AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK=False"
        echo "export AIRFLOW__TRIGGERER__CAPACITY=50"
        echo "export AIRFLOW__LOGGING__BASE_LOG_FOLDER='$dir/logs/tasks'"
        # the caller's Harmonize configuration reaches the tasks
        local var
        while IFS='=' read -r var _; do
            [[ $var == HARMONIZE_* ]] && printf 'export %s=%q\n' "$var" "${!var}"
        done < <(env)
        [[ -n ${HARMONIZE_EVENTS_URL:-} ]] || echo "export HARMONIZE_EVENTS_URL=kafka://$kafka"
        [[ $host == 127.0.0.1 ]] || celery_env "$dir" "$db"
    } >"$dir/airflow.env"
}

cmd_start() {
    local dir=${1:-} db=${AIRFLOW_DB_URL:-} kafka=${HARMONIZE_KAFKA:-127.0.0.1:9092}
    local executor=local workers=2 netns="" host=127.0.0.1
    [[ -n $dir ]] || usage
    shift
    while (($#)); do
        case $1 in
            --db) db=$2; shift 2 ;;
            --kafka) kafka=$2; shift 2 ;;
            --executor) executor=$2; shift 2 ;;
            --workers) workers=$2; shift 2 ;;
            --netns) netns=$2; shift 2 ;;
            *) usage ;;
        esac
    done
    mkdir -p "$dir/run" "$dir/logs"
    dir=$(cd "$dir" && pwd)
    if cmd_status "$dir" >/dev/null 2>&1; then
        die "Airflow already runs from $dir (stop it first)"
    fi
    [[ -n $db ]] || db="sqlite:///$dir/airflow.db"
    case $executor in
        local) ;;
        celery)
            [[ $db == postgresql* ]] || die "--executor celery needs --db postgresql+psycopg://..."
            [[ $workers =~ ^[1-9][0-9]?$ ]] || die "--workers must be 1..99"
            celery_prepare "$dir" "$workers" "$netns"
            # the ingest DAG's receive tasks at once: one per Celery slot, unless set
            export HARMONIZE_RECEIVE_SLOTS=${HARMONIZE_RECEIVE_SLOTS:-$((workers * ${AIRFLOW_CELERY_CONCURRENCY:-2}))}
            host=$(celery_api_address "$dir")
            ;;
        *) usage ;;
    esac
    local port airflow
    port=$(free_port)
    export AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT=$(free_port)
    export AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT=$(free_port)
    airflow=$(airflow_bin)
    write_env "$dir" "$db" "$kafka" "$port" "$host"
    # shellcheck disable=SC1091
    source "$dir/airflow.env"
    # compiled term indexes before the scheduler starts: its warm-up loads them for every task
    local cache=${HARMONIZE_ONTOLOGY_CACHE:-${HARMONIZE_WORKSPACE:-workspace}/cache}
    "$ROOT/.venv/bin/harmonize" ontologies compile --cache-dir "$cache" \
        ${HARMONIZE_ONTOLOGIES_DIR:+--ontologies-dir "$HARMONIZE_ONTOLOGIES_DIR"} \
        >"$dir/logs/ontologies.log" 2>&1 || {
        tail -20 "$dir/logs/ontologies.log" >&2
        die "compiling the ontology indexes failed (see $dir/logs/ontologies.log)"
    }
    "$airflow" db migrate >"$dir/logs/db-migrate.log" 2>&1 || {
        tail -20 "$dir/logs/db-migrate.log" >&2
        die "airflow db migrate failed (see $dir/logs/db-migrate.log)"
    }
    local p
    for p in "${PROCESSES[@]}"; do
        setsid "$airflow" "$p" >"$dir/logs/$p.log" 2>&1 </dev/null &
        echo $! >"$dir/run/$p.pid"
    done
    local deadline=$((SECONDS + ${AIRFLOW_START_TIMEOUT:-180}))
    until curl -fsS "http://$host:$port/api/v2/monitor/health" >/dev/null 2>&1; do
        ((SECONDS < deadline)) || { cmd_stop "$dir"; die "api-server did not answer (see $dir/logs)"; }
        check_alive "$dir" || { cmd_stop "$dir"; die "an Airflow process died (see $dir/logs)"; }
        sleep 1
    done
    "$ROOT/.venv/bin/python" "$ROOT/infra/airflow/wait_dags.py" \
        $((deadline - SECONDS)) "${DAG_IDS[@]}" >>"$dir/logs/wait-dags.log" 2>&1 || {
        cmd_stop "$dir"
        die "the harmonize DAGs were not parsed (see $dir/logs/dag-processor.log)"
    }
    if [[ $executor == celery ]]; then
        celery_start_workers "$dir" "$workers" || { cmd_stop "$dir"; die "the Celery workers did not start"; }
    fi
    echo "http://$host:$port"
}

check_alive() {
    local dir=$1 p pid
    for p in "${PROCESSES[@]}"; do
        pid=$(cat "$dir/run/$p.pid" 2>/dev/null) || return 1
        kill -0 "$pid" 2>/dev/null || return 1
    done
}

cmd_status() {
    local dir=${1:-} p pid down=0
    [[ -n $dir ]] || usage
    for p in "${PROCESSES[@]}"; do
        pid=$(cat "$dir/run/$p.pid" 2>/dev/null || true)
        if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
            echo "$p running (pid $pid)"
        else
            echo "$p stopped"
            down=1
        fi
    done
    for p in $(celery_workers "$dir"); do
        pid=$(cat "$dir/run/worker-$p.pid" 2>/dev/null || true)
        if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
            echo "celery worker $p running (pid $pid)"
        else
            echo "celery worker $p stopped"
            down=1
        fi
    done
    return $down
}

cmd_stop() {
    local dir=${1:-} p pid
    [[ -n $dir ]] || usage
    for p in "${PROCESSES[@]}"; do
        pid=$(cat "$dir/run/$p.pid" 2>/dev/null || true)
        [[ -n $pid ]] && kill -TERM -- "-$pid" 2>/dev/null || true
    done
    local deadline=$((SECONDS + 20))
    for p in "${PROCESSES[@]}"; do
        pid=$(cat "$dir/run/$p.pid" 2>/dev/null || true)
        [[ -n $pid ]] || continue
        while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.5; done
        kill -KILL -- "-$pid" 2>/dev/null || true
        rm -f "$dir/run/$p.pid"
    done
    celery_stop "$dir"
}

case ${1:-} in
    start) shift; cmd_start "$@" ;;
    stop) cmd_stop "${2:-}" ;;
    status) cmd_status "${2:-}" ;;
    env) cat "${2:?usage: env DIR}/airflow.env" ;;
    *) usage ;;
esac
