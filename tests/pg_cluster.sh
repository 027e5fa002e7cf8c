#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests, listening only on a unix socket in its
# own directory (no TCP port is opened).
#   pg_cluster.sh start DIR   initdb + pg_ctl start in DIR (an empty directory); prints
#                             the libpq conninfo of its `postgres` database
#   pg_cluster.sh stop DIR    stops the cluster and removes DIR
# initdb refuses to run as root: as root, the cluster runs as the unprivileged user
# `nobody`, which then owns DIR.
set -euo pipefail

command=${1:?usage: pg_cluster.sh start|stop DIR}
dir=${2:?usage: pg_cluster.sh start|stop DIR}

bindir=$(pg_config --bindir 2>/dev/null || true)
if [ ! -x "$bindir/initdb" ]; then
  bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
fi
if [ ! -x "$bindir/initdb" ] || [ ! -x "$bindir/pg_ctl" ]; then
  echo "pg_cluster.sh: no initdb/pg_ctl found (Debian: apt-get install postgresql)" >&2
  exit 1
fi

dir=$(realpath -m "$dir")
cd /  # the owner below may not be able to enter the caller's directory
as_owner=()
if [ "$(id -u)" -eq 0 ]; then as_owner=(runuser -u nobody --); fi

case $command in
start)
  if [ ${#as_owner[@]} -gt 0 ]; then chown nobody "$dir"; fi
  # The socket file is DIR/.s.PGSQL.PORT, private to DIR: any port number is free there,
  # a random one keeps two clusters from ever sharing a name.
  port=$((20000 + RANDOM % 40000))
  if ! "${as_owner[@]}" "$bindir/initdb" -D "$dir/data" -U statenet -A trust -E UTF8 --locale=C --no-sync \
      >"$dir/initdb.log" 2>&1; then
    echo "pg_cluster.sh: initdb failed:" >&2
    cat "$dir/initdb.log" >&2
    exit 1
  fi
  if ! "${as_owner[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-c listen_addresses='' -c unix_socket_directories='$dir' -p $port -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
      start >/dev/null 2>&1; then
    echo "pg_cluster.sh: pg_ctl start failed:" >&2
    cat "$dir/server.log" >&2 || true
    exit 1
  fi
  echo "host=$dir port=$port dbname=postgres user=statenet"
  ;;
stop)
  if [ -f "$dir/data/postmaster.pid" ]; then
    "${as_owner[@]}" "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
  ;;
*)
  echo "pg_cluster.sh: unknown command '$command' (start or stop)" >&2
  exit 2
  ;;
esac
