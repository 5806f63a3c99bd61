#!/usr/bin/env bash
# "Hosts" on one machine: Linux network namespaces on a private bridge (root only).
#
#   infra/netns.sh up NAME N        a bridge NAME-br with ADDR.1/24 in this (the services')
#                                   namespace, and N namespaces NAME-h1..NAME-hN, each with
#                                   its own veth pair, loopback and address ADDR.(10+I)
#   infra/netns.sh hosts NAME       list "NAMESPACE ADDRESS" of each host, then "services ADDR"
#   infra/netns.sh exec NAME I CMD  run CMD on host I (ip netns exec NAME-hI CMD)
#   infra/netns.sh kill NAME I      SIGKILL every process on host I, then delete its namespace
#   infra/netns.sh down NAME        kill every process on every host, delete the namespaces,
#                                   the veth pairs and the bridge (idempotent)
#   infra/netns.sh run NAME N -- CMD  up, run CMD with HARMONIZE_NETNS=NAME, down on exit
#
# `up` prints the services' address (the bridge's, ADDR.1) as its last line: services that
# the hosts share (Kafka, PostgreSQL, the S3 server) listen there, e.g.
# `infra/kafka.sh start DIR --brokers 3 --host ADDR.1`. ADDR is the first free 10.231.X
# (X in 0..255) no interface uses yet. NAME is at most 8 characters (interface names are
# at most 15). Only addresses are separate: the hosts still see one file system, so give
# each its own workspace (and TMPDIR); tests/scale/ checks nothing else is shared.
set -euo pipefail

die() { echo "netns.sh: $*" >&2; exit 1; }

[[ "$(id -u)" == 0 ]] || die "network namespaces need root"
command -v ip >/dev/null || die "the ip command is needed (apt-get install iproute2)"

check_name() {
  [[ "$1" =~ ^[a-z][a-z0-9]{0,7}$ ]] || die "NAME must be 1-8 lowercase letters or digits: $1"
}

hosts_of() {
  ip netns list | awk '{print $1}' | grep -E "^$1-h[0-9]+$" | sort -V || true
}

free_subnet() {
  local used x
  used="$(ip -o -4 addr show | awk '{print $4}')"
  for x in $(seq 0 255); do
    grep -q "^10\.231\.$x\." <<<"$used" || { echo "10.231.$x"; return; }
  done
  die "no free 10.231.X.0/24 subnet"
}

up() {
  local name="$1" n="$2" subnet i ns
  check_name "$name"
  [[ "$n" =~ ^[0-9]+$ && "$n" -ge 1 && "$n" -le 200 ]] || die "N must be 1..200"
  ip link show "$name-br" >/dev/null 2>&1 && die "$name is up already (infra/netns.sh down $name)"
  exec 9>/run/harmonize-netns.lock
  flock 9
  subnet="$(free_subnet)"
  trap 'down "$name" >/dev/null 2>&1' ERR
  ip link add "$name-br" type bridge
  ip addr add "$subnet.1/24" dev "$name-br"
  ip link set "$name-br" up
  for i in $(seq 1 "$n"); do
    ns="$name-h$i"
    ip netns add "$ns"
    ip link add "$name-v$i" type veth peer name eth0 netns "$ns"
    ip link set "$name-v$i" master "$name-br" up
    ip -n "$ns" link set lo up
    ip -n "$ns" addr add "$subnet.$((10 + i))/24" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$ns" route add default via "$subnet.1"
  done
  trap - ERR
  flock -u 9
  for i in $(seq 1 "$n"); do echo "$name-h$i $subnet.$((10 + i))"; done
  echo "$subnet.1"
}

services_address() {
  ip -o -4 addr show dev "$1-br" 2>/dev/null | awk '{print $4}' | cut -d/ -f1
}

hosts() {
  local name="$1" ns
  check_name "$name"
  for ns in $(hosts_of "$name"); do
    echo "$ns $(ip -n "$ns" -o -4 addr show dev eth0 | awk '{print $4}' | cut -d/ -f1)"
  done
  echo "services $(services_address "$name")"
}

kill_host() {
  local ns="$1" pids
  ip netns list | awk '{print $1}' | grep -qx "$ns" || return 0
  for _ in $(seq 1 50); do
    pids="$(ip netns pids "$ns" || true)"
    [[ -n "$pids" ]] || break
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null || true
    sleep 0.1
  done
  ip netns delete "$ns"
}

down() {
  local name="$1" ns i
  check_name "$name"
  for ns in $(hosts_of "$name"); do
    kill_host "$ns"
  done
  for i in $(ip -o link show | awk -F': ' '{print $2}' | grep -E "^$name-v[0-9]+@" | cut -d@ -f1); do
    ip link delete "$i" 2>/dev/null || true
  done
  ip link delete "$name-br" 2>/dev/null || true
  echo "down $name"
}

run() {
  local name="$1" n="$2"
  shift 2
  [[ "${1:-}" == "--" ]] && shift
  [[ $# -ge 1 ]] || die "usage: netns.sh run NAME N -- CMD"
  trap 'down "$name" >/dev/null' EXIT
  trap 'exit 130' INT TERM
  up "$name" "$n"
  HARMONIZE_NETNS="$name" "$@"
}

usage="usage: netns.sh up NAME N | hosts NAME | exec NAME I CMD... | kill NAME I | down NAME"
usage+=" | run NAME N -- CMD..."
case "${1:-}" in
  up) [[ $# -eq 3 ]] || die "$usage"; up "$2" "$3" ;;
  hosts) [[ $# -eq 2 ]] || die "$usage"; hosts "$2" ;;
  exec) [[ $# -ge 4 ]] || die "$usage"; check_name "$2"; ns="$2-h$3"; shift 3; exec ip netns exec "$ns" "$@" ;;
  kill) [[ $# -eq 3 ]] || die "$usage"; check_name "$2"; kill_host "$2-h$3"; echo "killed $2-h$3" ;;
  down) [[ $# -eq 2 ]] || die "$usage"; down "$2" ;;
  run) [[ $# -ge 4 ]] || die "$usage"; name="$2" n="$3"; shift 3; run "$name" "$n" "$@" ;;
  *) die "$usage" ;;
esac
