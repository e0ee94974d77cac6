-- Runs once, on the primary's first start (empty datadir), from /docker-entrypoint-initdb.d on the
-- image's temporary init server. Idempotent (IF NOT EXISTS; GRANT is repeatable).
-- The same accounts and database as the local engine of scripts/infra (npm run infra:up).

-- Per server, NOT replicated: the replication account. The replica creates its own in
-- replica-init/01-replication.sh, so that either node can serve as a source after a promotion.
SET SESSION sql_log_bin = 0;
CREATE USER IF NOT EXISTS 'repl'@'%' IDENTIFIED BY 'repl';
GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'repl'@'%';
SET SESSION sql_log_bin = 1;

-- Replicated (binlogged with this server's GTIDs): the replica receives the app account and the
-- database through replication, so both nodes hold identical users without conflicting writes.
CREATE DATABASE IF NOT EXISTS `shop` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS 'shop'@'%' IDENTIFIED BY 'shop';
-- Development topology: the app account may create the per-suite e2e databases and read
-- SHOW REPLICA STATUS (replica lag checks). In production grant only
--   ALL ON `shop`.* plus REPLICATION CLIENT ON *.*   (see docs/scaling.md).
GRANT ALL PRIVILEGES ON *.* TO 'shop'@'%' WITH GRANT OPTION;
