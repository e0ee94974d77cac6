#!/usr/bin/env bash
# Runs once, on the replica's first start (empty datadir), from /docker-entrypoint-initdb.d on the
# image's temporary init server (started with --skip-networking: no client can reach it yet,
# but it can still connect out to the source). The entrypoint executes this file, or sources it
# when the exec bit was lost (e.g. a checkout on Windows): so no `set -u` (it would leak into the
# entrypoint) and no `exit 0` (it would end the entrypoint before mysqld starts).
#
# 1. wait until the primary answers over TCP as the `repl` account (its init has finished: the
#    primary's own init server does not listen on TCP);
# 2. create this node's own `repl` account, unlogged (for a later promotion);
# 3. forget the GTIDs of this node's own init (time zone tables): they would be errant
#    transactions, unknown to the primary, that break a later fail-over;
# 4. CHANGE REPLICATION SOURCE ... SOURCE_AUTO_POSITION=1, GET_SOURCE_PUBLIC_KEY=1; START REPLICA
#    (MySQL 8.4 syntax: the SLAVE/MASTER statements are gone). The source's binlog holds
#    everything since its initialisation, so the app account and the `shop` database arrive
#    through replication;
# 5. SET PERSIST super_read_only = ON (see replica.cnf).
set -eo pipefail

NC_SOURCE_HOST="${MYSQL_SOURCE_HOST:-mysql-primary}"
NC_SOURCE_PORT="${MYSQL_SOURCE_PORT:-3306}"
NC_REPL_USER="${MYSQL_REPL_USER:-repl}"
NC_REPL_PASSWORD="${MYSQL_REPL_PASSWORD:-repl}"
NC_SOURCE_WAIT_TRIES="${MYSQL_SOURCE_WAIT_TRIES:-150}"

# Credentials go through a throw-away defaults file (a fresh process substitution per call: it
# can be read once), never the command line. --defaults-extra-file must be the first option.
nc_local_mysql() {
  mysql --defaults-extra-file=<(printf '[client]\nuser=root\npassword="%s"\n' "${MYSQL_ROOT_PASSWORD}") \
    --protocol=socket "$@"
}
nc_source_mysql() {
  mysql --defaults-extra-file=<(printf '[client]\nuser=%s\npassword="%s"\n' "${NC_REPL_USER}" "${NC_REPL_PASSWORD}") \
    --protocol=TCP --host="${NC_SOURCE_HOST}" --port="${NC_SOURCE_PORT}" --connect-timeout=2 "$@"
}

nc_configure_replica() {
  echo "replica-init: waiting for source ${NC_SOURCE_HOST}:${NC_SOURCE_PORT} (up to $((NC_SOURCE_WAIT_TRIES * 2)) s)"
  local i=0
  until nc_source_mysql --execute='SELECT 1' >/dev/null 2>&1; do
    i=$((i + 1))
    if [ "${i}" -ge "${NC_SOURCE_WAIT_TRIES}" ]; then
      echo "replica-init: source ${NC_SOURCE_HOST}:${NC_SOURCE_PORT} did not accept ${NC_REPL_USER} after $((NC_SOURCE_WAIT_TRIES * 2)) s" >&2
      return 1
    fi
    sleep 2
  done
  echo "replica-init: source is up; configuring GTID replication"

  nc_local_mysql <<SQL
SET SESSION sql_log_bin = 0;
CREATE USER IF NOT EXISTS '${NC_REPL_USER}'@'%' IDENTIFIED BY '${NC_REPL_PASSWORD}';
GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO '${NC_REPL_USER}'@'%';
SET SESSION sql_log_bin = 1;
RESET BINARY LOGS AND GTIDS;
CHANGE REPLICATION SOURCE TO
  SOURCE_HOST = '${NC_SOURCE_HOST}',
  SOURCE_PORT = ${NC_SOURCE_PORT},
  SOURCE_USER = '${NC_REPL_USER}',
  SOURCE_PASSWORD = '${NC_REPL_PASSWORD}',
  SOURCE_AUTO_POSITION = 1,
  GET_SOURCE_PUBLIC_KEY = 1,
  SOURCE_CONNECT_RETRY = 5,
  SOURCE_RETRY_COUNT = 86400;
START REPLICA;
SET PERSIST super_read_only = ON;
SQL
  echo "replica-init: replication started from ${NC_SOURCE_HOST}:${NC_SOURCE_PORT}; super_read_only persisted"
}

nc_configure_replica
