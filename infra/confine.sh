#!/usr/bin/env bash
# Run a command where every file system is read-only except the directories named: a check
# that a process writes nowhere else (root only; util-linux's unshare, mount, findmnt).
#
#   infra/confine.sh DIR... -- CMD [ARG...]
#
# CMD runs in a private mount namespace (nothing done here is seen outside it). Each DIR is
# bind-mounted onto itself and stays writable; every other mount is remounted read-only,
# except /proc, /sys and /dev/pts; /dev/shm is a fresh tmpfs of its own. A write anywhere
# else fails with EROFS ("Read-only file system"). tests/scale runs each host's
# `harmonize worker` so, writable only in its own workspace:
#
#   ip netns exec NAME-h1 infra/confine.sh /srv/host1 -- harmonize worker -w /srv/host1 ...
set -euo pipefail

die() { echo "confine.sh: $*" >&2; exit 1; }

if [[ "${1:-}" != --inside ]]; then
  [[ "$(id -u)" == 0 ]] || die "mount namespaces need root"
  exec unshare --mount --propagation private "$0" --inside "$@"
fi
shift
dirs=()
while [[ $# -gt 0 && "$1" != -- ]]; do
  [[ -d "$1" ]] || die "not a directory: $1"
  dirs+=("$(realpath "$1")")
  shift
done
[[ ${#dirs[@]} -ge 1 && "${1:-}" == -- && $# -ge 2 ]] || die "usage: confine.sh DIR... -- CMD [ARG...]"
shift

for dir in "${dirs[@]}"; do
  mount --bind "$dir" "$dir"
done
while read -r target; do
  target="$(printf '%b' "$target")"  # findmnt -r writes a space as \x20
  case "$target" in
    /proc | /proc/* | /sys | /sys/* | /dev/pts | /dev/pts/*) continue ;;
  esac
  for dir in "${dirs[@]}"; do
    [[ "$target" == "$dir" ]] && continue 2
  done
  mount -o remount,bind,ro "$target" || die "could not make $target read-only"
done < <(findmnt -rn -o TARGET | sort -u)
mount -t tmpfs -o size=512m,mode=1777 tmpfs /dev/shm
exec "$@"
