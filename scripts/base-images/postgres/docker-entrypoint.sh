#!/usr/bin/env bash
# The common behaviour of the official postgres image's entrypoint, in a small script:
#   POSTGRES_PASSWORD (or POSTGRES_HOST_AUTH_METHOD=trust), POSTGRES_USER (default postgres),
#   POSTGRES_DB (default: the user), POSTGRES_INITDB_ARGS, PGDATA, the *_FILE variants of
#   these, and /docker-entrypoint-initdb.d/*.sh, *.sql, *.sql.gz run once, on first init.
# Started as root, it fixes the ownership of the data directory and re-executes itself as
# the postgres user; the server itself never runs as root.
set -Eeo pipefail

log() { printf '%s [entrypoint] %s\n' "$(date -u '+%Y-%m-%d %H:%M:%S UTC')" "$*"; }

# file_env VAR [DEFAULT]: VAR from the environment, else from the file named by VAR_FILE.
file_env() {
  local var="$1" file_var="${1}_FILE" value="${2:-}"
  if [ -n "${!var:-}" ] && [ -n "${!file_var:-}" ]; then
    log "error: both $var and $file_var are set; they are exclusive" >&2
    exit 1
  fi
  if [ -n "${!var:-}" ]; then
    value="${!var}"
  elif [ -n "${!file_var:-}" ]; then
    value="$(<"${!file_var}")"
  fi
  export "$var"="$value"
  unset "$file_var"
}

setup_env() {
  file_env POSTGRES_PASSWORD
  file_env POSTGRES_USER postgres
  file_env POSTGRES_DB "$POSTGRES_USER"
  file_env POSTGRES_INITDB_ARGS
  : "${POSTGRES_HOST_AUTH_METHOD:=scram-sha-256}"
  DATABASE_ALREADY_EXISTS=
  if [ -s "$PGDATA/PG_VERSION" ]; then DATABASE_ALREADY_EXISTS=true; fi
}

create_dirs() {
  mkdir -p "$PGDATA" /var/run/postgresql
  # initdb refuses a data directory that others can read.
  chmod 00700 "$PGDATA" || :
  chmod 03775 /var/run/postgresql || :
  if [ "$(id -u)" = 0 ]; then
    find "$PGDATA" /var/run/postgresql \! -user postgres -exec chown postgres:postgres '{}' +
  fi
}

verify_minimum_env() {
  if [ -z "$POSTGRES_PASSWORD" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != trust ]; then
    cat >&2 <<'MSG'
error: the database is uninitialized and no superuser password is specified.
       Set POSTGRES_PASSWORD (or POSTGRES_PASSWORD_FILE) to a non-empty value, or
       POSTGRES_HOST_AUTH_METHOD=trust to allow every connection without a password
       (never do that outside a throw-away environment).
MSG
    exit 1
  fi
}

init_database_dir() {
  # POSTGRES_INITDB_ARGS is split like a shell command line, as the official image does.
  if [ -n "$POSTGRES_PASSWORD" ]; then
    eval 'initdb --username="$POSTGRES_USER" --pwfile=<(printf "%s\n" "$POSTGRES_PASSWORD") '"$POSTGRES_INITDB_ARGS"
  else
    eval 'initdb --username="$POSTGRES_USER" '"$POSTGRES_INITDB_ARGS"
  fi
  {
    printf '\n# Added by docker-entrypoint.sh: connections from other containers.\n'
    printf 'host all all all %s\n' "$POSTGRES_HOST_AUTH_METHOD"
  } >>"$PGDATA/pg_hba.conf"
}

# psql over the local socket as the superuser, stopping at the first error.
run_psql() {
  PGHOST='' PGHOSTADDR='' psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc "$@"
}

setup_db() {
  if [ "$POSTGRES_DB" = postgres ]; then return; fi
  local exists
  exists="$(run_psql --dbname postgres --set db="$POSTGRES_DB" --tuples-only --no-align <<'SQL'
SELECT 1 FROM pg_database WHERE datname = :'db';
SQL
)"
  if [ -z "$exists" ]; then
    log "creating database $POSTGRES_DB"
    run_psql --dbname postgres --set db="$POSTGRES_DB" <<'SQL'
CREATE DATABASE :"db";
SQL
  fi
}

process_init_files() {
  local f
  for f in /docker-entrypoint-initdb.d/*; do
    [ -e "$f" ] || continue
    case "$f" in
      *.sh)
        # A script that is not executable is sourced, and sees the functions above.
        # shellcheck disable=SC1090
        if [ -x "$f" ]; then log "running $f"; "$f"; else log "sourcing $f"; . "$f"; fi ;;
      *.sql) log "running $f"; run_psql --dbname "$POSTGRES_DB" -f "$f" ;;
      *.sql.gz) log "running $f"; gunzip -c "$f" | run_psql --dbname "$POSTGRES_DB" ;;
      *) log "ignoring $f" ;;
    esac
  done
}

# Whether the server is only asked to print something (--version, --help, -C setting).
wants_info() {
  local arg
  for arg; do
    case "$arg" in -'?' | --help | --describe-config | -V | --version | -C) return 0 ;; esac
  done
  return 1
}

main() {
  # `docker run postgres:15 -c shared_buffers=256MB` passes flags to the server.
  if [ "${1:0:1}" = '-' ]; then set -- postgres "$@"; fi

  if [ "$1" = postgres ] && ! wants_info "$@"; then
    setup_env
    create_dirs
    if [ "$(id -u)" = 0 ]; then
      exec setpriv --reuid=postgres --regid=postgres --init-groups \
        env HOME=/var/lib/postgresql "${BASH_SOURCE[0]}" "$@"
    fi

    if [ -z "$DATABASE_ALREADY_EXISTS" ]; then
      verify_minimum_env
      log "initializing the database cluster in $PGDATA"
      init_database_dir
      export PGPASSWORD="${PGPASSWORD:-$POSTGRES_PASSWORD}"
      # A temporary server on the socket only: nothing outside can connect before init ends.
      PGUSER="${PGUSER:-$POSTGRES_USER}" pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p 5432" -w start
      setup_db
      process_init_files
      PGUSER="${PGUSER:-$POSTGRES_USER}" pg_ctl -D "$PGDATA" -m fast -w stop
      unset PGPASSWORD
      log "PostgreSQL init process complete; ready for start up"
    else
      log "PostgreSQL database directory appears to contain a database; skipping initialization"
    fi
  fi

  exec "$@"
}

main "$@"
