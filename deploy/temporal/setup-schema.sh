#!/bin/sh
# One-shot schema job (docker-compose service `temporal-schema`, image temporalio/admin-tools).
# Creates the `temporal` and `temporal_visibility` databases and brings both schemas up to the version
# this admin-tools image ships. Safe to run on every `up`: `create` ignores an existing database,
# `setup-schema -v 0.0` only adds the version tables when they are missing, and `update-schema`
# applies only the versioned steps that are newer than what the database records.
set -eu

: "${POSTGRES_SEEDS:?}" "${POSTGRES_USER:?}" "${POSTGRES_PWD:?}"
# The placeholder of deploy/.env.example is public: a database with it is open to anyone who reads this repository.
# This job runs before the server starts, so refusing here keeps the whole stack down until it is changed.
if [ "$POSTGRES_PWD" = "change-me" ]; then
  echo "setup-schema: TEMPORAL_DB_PASSWORD is still the placeholder \"change-me\" from deploy/.env.example; set a real password in deploy/.env" >&2
  exit 2
fi
port="${DB_PORT:-5432}"
schema_root="${TEMPORAL_SCHEMA_ROOT:-/etc/temporal/schema/postgresql/v12}"
export SQL_PASSWORD="$POSTGRES_PWD"

sql() { temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "$port" -u "$POSTGRES_USER" "$@"; }

# depends_on waits for pg_isready, but the first start of a fresh volume restarts postgres once.
tries=0
until sql --db temporal create; do
  tries=$((tries + 1))
  [ "$tries" -lt 30 ] || { echo "setup-schema: PostgreSQL at $POSTGRES_SEEDS:$port is not reachable" >&2; exit 1; }
  sleep 2
done

for db in temporal temporal_visibility; do
  dir=temporal
  [ "$db" = temporal_visibility ] && dir=visibility
  echo "setup-schema: $db"
  sql --db "$db" create
  sql --db "$db" setup-schema -v 0.0
  sql --db "$db" update-schema -d "$schema_root/$dir/versioned"
done
echo "setup-schema: done"
