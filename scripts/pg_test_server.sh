#!/usr/bin/env bash
# Start a throwaway PostgreSQL server for the test suite's PostgreSQL leg.
#   scripts/pg_test_server.sh start DIR   -> prints the database URL on stdout
#   scripts/pg_test_server.sh stop DIR
# Installs Debian's postgresql package when it is missing and we are root (CI is).
set -euo pipefail
action=${1:?start or stop}
dir=${2:?a directory for the cluster}

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

as_owner() {
  # PostgreSQL refuses to run as root: run its tools as the `postgres` user then.
  if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "cd / && $*"; else bash -c "$*"; fi
}

case "$action" in
start)
  bin=$(pg_bin)
  if [ -z "$bin" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "installing postgresql (Debian package)..." >&2
      apt-get update -qq >&2
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
      bin=$(pg_bin)
    else
      echo "PostgreSQL is not installed and cannot be installed here" >&2
      exit 3
    fi
  fi
  mkdir -p "$dir"
  if [ "$(id -u)" = 0 ]; then chown postgres "$dir"; chmod 755 "$(dirname "$dir")"; fi
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  as_owner "'$bin/initdb' -D '$dir/data' -U classpulse --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null"
  as_owner "'$bin/pg_ctl' -D '$dir/data' -l '$dir/server.log' -w -o \"-p $port -k '$dir' -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off\" start >/dev/null"
  as_owner "'$bin/createdb' -h 127.0.0.1 -p $port -U classpulse classpulse_test"
  echo "postgresql://classpulse@127.0.0.1:$port/classpulse_test"
  ;;
stop)
  bin=$(pg_bin)
  [ -d "$dir/data" ] && as_owner "'$bin/pg_ctl' -D '$dir/data' -m immediate stop >/dev/null" || true
  rm -rf "$dir"
  ;;
*)
  echo "usage: $0 start|stop DIR" >&2
  exit 2
  ;;
esac
