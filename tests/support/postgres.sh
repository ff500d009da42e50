#!/usr/bin/env bash
# A PostgreSQL server of the tests' own, from Debian's packages:
#   postgres.sh start DIR   initdb in DIR (as an unprivileged user when run
#                           as root), start it on an ephemeral loopback port
#                           and print its superuser URL (password included)
#   postgres.sh stop DIR    stop it and remove DIR
#   postgres.sh restart DIR restart it as a crash would (-m immediate)
#   postgres.sh halt DIR    stop it as a crash would, keeping its data
#   postgres.sh resume DIR  start it again on the same port
# The superuser is retrace_admin with a password (scram-sha-256 over TCP),
# so that the tests exercise a password in the connection string. Tests run
# it with fsync off (a killed server loses nothing the OS has; the machine
# does not crash); PG_FSYNC=on makes it durable, as benchmarks want it.
set -euo pipefail
cmd=$1 dir=$2
bin=$(ls -d /usr/lib/postgresql/*/bin 2> /dev/null | sort -V | tail -1)
[[ -x $bin/initdb ]] || { echo "postgres.sh: no PostgreSQL server (scripts/bootstrap installs postgresql-15)" >&2; exit 1; }
as=()
[[ $(id -u) != 0 ]] || as=(runuser -u nobody --)

case $cmd in
  start)
    # (what an interrupted run left behind is stopped and removed first)
    if [[ -d $dir/data ]]; then
      "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate stop > /dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    mkdir -p "$dir"
    chmod 755 "$dir"
    [[ $(id -u) != 0 ]] || chown nobody "$dir"
    password=pw-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
    printf '%s\n' "$password" > "$dir/pwfile"
    [[ $(id -u) != 0 ]] || chown nobody "$dir/pwfile"
    "${as[@]}" "$bin/initdb" -D "$dir/data" -U retrace_admin --pwfile="$dir/pwfile" \
      --auth-host=scram-sha-256 --auth-local=trust -E UTF8 --locale=C.UTF-8 > "$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    rm -f "$dir/pwfile"
    # An ephemeral port: the kernel picks a free one, the server takes it
    # (tried again if another process took it in between).
    for _ in 1 2 3 4 5; do
      port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
      if "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
          -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=${PG_FSYNC:-off} -c max_connections=200" \
          start > /dev/null 2>&1; then
        echo "$port" > "$dir/port"
        echo "postgres://retrace_admin:$password@127.0.0.1:$port/postgres" > "$dir/url"
        cat "$dir/url"
        exit 0
      fi
    done
    cat "$dir/server.log" >&2
    exit 1
    ;;
  restart)
    port=$(cat "$dir/port")
    "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -m immediate \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=${PG_FSYNC:-off} -c max_connections=200" \
      restart > /dev/null
    ;;
  halt)
    "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop > /dev/null
    ;;
  resume)
    port=$(cat "$dir/port")
    "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=${PG_FSYNC:-off} -c max_connections=200" \
      start > /dev/null
    ;;
  stop)
    [[ -d $dir/data ]] && "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate stop > /dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
  *) echo "usage: postgres.sh start|stop|restart|halt|resume DIR" >&2; exit 2 ;;
esac
