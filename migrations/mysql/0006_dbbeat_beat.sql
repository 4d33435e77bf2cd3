-- Every running beat, leader or standby (see the PostgreSQL migration 0007). Times are
-- UTC (UTC_TIMESTAMP(6) of the server).
CREATE TABLE IF NOT EXISTS dbbeat_beat (
  `instance` varchar(191) NOT NULL,
  `lease_name` varchar(191) NOT NULL,
  `hostname` varchar(255) NOT NULL,
  `pid` int(11) NOT NULL,
  `version` varchar(64) NOT NULL,
  `role` varchar(8) NOT NULL,
  `lease_seconds` double NOT NULL,
  `started_at` datetime(6) NOT NULL,
  `seen_at` datetime(6) NOT NULL,
  PRIMARY KEY (`instance`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
