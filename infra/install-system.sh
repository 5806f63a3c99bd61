#!/usr/bin/env bash
# System packages the integration tests need, from Debian's archive, installed only when missing:
#   postgresql  a real PostgreSQL server (tests start throwaway clusters with infra/postgres.sh)
#   chromium    a real headless browser (the dashboard's Playwright tests)
#   redis-server  the Celery broker of `infra/airflow.sh start --executor celery` (tests/scale)
# Java 17 and Maven (Kafka, from Maven Central) are the machine's toolchains and are only checked.
set -euo pipefail

missing=()
compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null || missing+=(postgresql)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)

if ((${#missing[@]})); then
    sudo=""
    if [[ $(id -u) -ne 0 ]]; then
        command -v sudo >/dev/null 2>&1 || {
            echo "install-system: need root or sudo to apt-get install ${missing[*]}" >&2
            exit 1
        }
        sudo="sudo"
    fi
    echo "install-system: apt-get install ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
fi

for tool in java mvn; do
    command -v "$tool" >/dev/null 2>&1 || {
        echo "install-system: $tool is missing (Java 17 and Maven are needed for Kafka)" >&2
        exit 1
    }
done
echo "install-system: postgresql $(compgen -G '/usr/lib/postgresql/*/bin/postgres' | head -1), $(chromium --version 2>/dev/null | head -1), $(redis-server --version | cut -d' ' -f1-3)"
