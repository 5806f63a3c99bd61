#!/usr/bin/env bash
# A throwaway PostgreSQL server in one directory, for tests, benches and local Airflow.
#
#   infra/postgres.sh start DIR [PORT] [--host ADDR]
#                                        initdb if needed, start on 127.0.0.1:PORT (a free
#                                        port when omitted), wait until ready, create the
#                                        database "harmonize", print its SQLAlchemy URL;
#                                        --host also listens on ADDR and trusts ADDR's /24
#                                        (hosts in network namespaces: infra/netns.sh), and
#                                        the URL names ADDR
#   infra/postgres.sh stop DIR           stop the server (fast shutdown)
#   infra/postgres.sh url DIR            print the URL of the server kept in DIR
#
# DIR holds data/ (the cluster), run/ (the unix socket), port and postgres.log. The server
# uses Debian's binaries (/usr/lib/postgresql/*/bin, package postgresql) or PG_BIN. It
# trusts local connections (superuser "postgres", no password) and runs with fsync off:
# never point it at data you want to keep. PostgreSQL refuses to run as root, so as root
# the server runs as the "postgres" system user and DIR is handed to that user; DIR must
# then be reachable by it (under /tmp, not inside a 0700 directory).
set -euo pipefail

die() {
    echo "postgres.sh: $*" >&2
    exit 1
}

usage() {
    echo "usage: $0 start DIR [PORT] [--host ADDR] | stop DIR | url DIR" >&2
    exit 2
}

find_bin() {
    if [[ -n "${PG_BIN:-}" ]]; then
        [[ -x "$PG_BIN/pg_ctl" ]] || die "PG_BIN=$PG_BIN has no pg_ctl"
        echo "$PG_BIN"
        return
    fi
    local candidate
    # the newest major version first
    for candidate in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -V -r); do
        if [[ -x "$candidate/pg_ctl" && -x "$candidate/initdb" ]]; then
            echo "$candidate"
            return
        fi
    done
    die "no PostgreSQL server binaries in /usr/lib/postgresql/*/bin; install Debian's postgresql package (apt-get install postgresql) or set PG_BIN"
}

# run a command as the server's owner: the postgres system user when we are root
as_owner() {
    if [[ "$(id -u)" == 0 ]]; then
        id postgres >/dev/null 2>&1 || die "running as root needs the 'postgres' system user (Debian's postgresql package creates it)"
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

free_port() {
    python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

url_of() {
    local dir=$1
    [[ -f "$dir/port" ]] || die "no server in $dir (run: $0 start $dir)"
    local host=127.0.0.1
    [[ -f "$dir/host" ]] && host=$(cat "$dir/host")
    echo "postgresql+psycopg://postgres@$host:$(cat "$dir/port")/harmonize"
}

start() {
    local dir=$1 port=${2:-} host=${3:-} bin listen=127.0.0.1
    bin=$(find_bin)
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if [[ "$(id -u)" == 0 ]]; then
        chown postgres: "$dir"
        as_owner test -w "$dir" || die "$dir is not reachable by the postgres user; use a directory under /tmp"
    fi
    if [[ -f "$dir/port" ]] && as_owner "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
        url_of "$dir"  # already running
        return
    fi
    if [[ ! -f "$dir/data/PG_VERSION" ]]; then
        as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 \
            --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || {
            cat "$dir/initdb.log" >&2
            die "initdb failed in $dir/data"
        }
    fi
    as_owner mkdir -p "$dir/run"
    if [[ -n "$host" ]]; then
        listen="127.0.0.1,$host"
        local net="${host%.*}.0/24"
        grep -q "^host all all $net trust" "$dir/data/pg_hba.conf" ||
            echo "host all all $net trust" | as_owner tee -a "$dir/data/pg_hba.conf" >/dev/null
        echo "$host" | as_owner tee "$dir/host" >/dev/null
    fi
    [[ -n "$port" ]] || port=$(free_port)
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
        -o "-p $port -k $dir/run -c listen_addresses=$listen -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
        start >/dev/null || {
        tail -n 20 "$dir/postgres.log" >&2 || true
        die "the server in $dir did not start on port $port"
    }
    echo "$port" | as_owner tee "$dir/port" >/dev/null
    local psql=("$bin/psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1)
    if [[ -z "$(as_owner "${psql[@]}" -tAc "SELECT 1 FROM pg_database WHERE datname = 'harmonize'")" ]]; then
        as_owner "${psql[@]}" -c "CREATE DATABASE harmonize" >/dev/null
    fi
    url_of "$dir"
}

stop() {
    local dir=$1 bin
    bin=$(find_bin)
    [[ -d "$dir/data" ]] || die "no server in $dir"
    if as_owner "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
        as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null
    fi
}

host=""
args=()
while [[ $# -gt 0 ]]; do
    case "$1" in
    --host) [[ $# -ge 2 ]] || usage; host=$2; shift 2 ;;
    *) args+=("$1"); shift ;;
    esac
done
set -- "${args[@]}"
[[ $# -ge 2 ]] || usage
case "$1" in
start) [[ $# -le 3 ]] || usage; start "$2" "${3:-}" "$host" ;;
stop) [[ $# -eq 2 ]] || usage; stop "$2" ;;
url) [[ $# -eq 2 ]] || usage; url_of "$2" ;;
*) usage ;;
esac
