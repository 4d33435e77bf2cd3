-- dbbeat's own state, kept out of Django's tables (prefix dbbeat_). Every time here is
-- UTC (UTC_TIMESTAMP(6) of the server), whatever zone the Django tables' naive times are in.

-- The leader lease: one row per lease name. `token` is a fencing token that grows with
-- every change of holder, so a former leader's late writes can be recognised.
CREATE TABLE IF NOT EXISTS dbbeat_lease (
  `name` varchar(191) NOT NULL,
  `holder` varchar(255) NOT NULL,
  `token` bigint(20) NOT NULL,
  `expires_at` datetime(6) NOT NULL,
  PRIMARY KEY (`name`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- One row per insert, update or delete of a schedule or task row (written by the
-- triggers in 0003), so the beat reloads only what changed. Read by `id > ?`.
CREATE TABLE IF NOT EXISTS dbbeat_change (
  `id` bigint(20) NOT NULL AUTO_INCREMENT,
  `table_name` varchar(64) NOT NULL,
  `row_id` int(11) NOT NULL,
  `op` varchar(6) NOT NULL,
  `changed_at` datetime(6) NOT NULL,
  PRIMARY KEY (`id`),
  KEY `dbbeat_change_changed_at_idx` (`changed_at`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- A random id per database, mixed into every task id the beat derives (see the
-- PostgreSQL migration 0004 for why).
CREATE TABLE IF NOT EXISTS dbbeat_installation (
  `singleton` tinyint(1) NOT NULL DEFAULT 1 CHECK (`singleton` = 1),
  `id` char(36) NOT NULL,
  PRIMARY KEY (`singleton`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

INSERT IGNORE INTO dbbeat_installation (singleton, id) VALUES (1, UUID());
