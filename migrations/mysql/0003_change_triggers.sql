-- Change tracking, so that writes made anywhere (our client, raw SQL, Django's bulk
-- update()) reach the beat: triggers on the task and schedule tables log each inserted,
-- updated or deleted row in dbbeat_change, which the beat polls with `id > ?`.
-- MySQL has no statement-level triggers and no LISTEN/NOTIFY, so:
--   * a bulk UPDATE of 10,000 rows logs 10,000 rows, which the beat reads in one query
--     and reloads as one batch;
--   * django_celery_beat_periodictasks.last_update is bumped by the first row of each
--     statement only (UTC_TIMESTAMP(6) is the statement's start time, so later rows of the
--     same statement find it already set and write nothing). It is UTC and only moves
--     forward.
-- The beat's own bookkeeping (an UPDATE of a task that changes only last_run_at and
-- total_run_count) is not logged. Text columns are compared as bytes (BINARY), so an edit
-- that only changes letter case or trailing spaces still counts.
-- TRUNCATE fires no trigger; call PeriodicTasks.changed() and restart the beat after one.
-- Every statement drops its trigger first, so an interrupted run can be repeated.

DROP TRIGGER IF EXISTS dbbeat_log_insert_intervalschedule;
CREATE TRIGGER dbbeat_log_insert_intervalschedule AFTER INSERT ON django_celery_beat_intervalschedule FOR EACH ROW
BEGIN
  INSERT INTO dbbeat_change (table_name, row_id, op, changed_at) VALUES ('django_celery_beat_intervalschedule', NEW.id, 'INSERT', UTC_TIMESTAMP(6));
  INSERT INTO django_celery_beat_periodictasks (ident, last_update) VALUES (1, UTC_TIMESTAMP(6))
    ON DUPLICATE KEY UPDATE last_update = IF(last_update < VALUES(last_update), VALUES(last_update), last_update);
END;

DROP TRIGGER IF EXISTS dbbeat_log_delete_intervalschedule;
CREATE TRIGGER dbbeat_log_delete_intervalschedule AFTER DELETE ON django_celery_beat_intervalschedule FOR EACH ROW
BEGIN
  INSERT INTO dbbeat_change (table_name, row_id, op, changed_at) VALUES ('django_celery_beat_intervalschedule', OLD.id, 'DELETE', UTC_TIMESTAMP(6));
  INSERT INTO django_celery_beat_periodictasks (ident, last_update) VALUES (1, UTC_TIMESTAMP(6))
    ON DUPLICATE KEY UPDATE last_update = IF(last_update < VALUES(last_update), VALUES(last_update), last_update);
END;

DROP TRIGGER IF EXISTS dbbeat_log_update_intervalschedule;
CREATE TRIGGER dbbeat_log_update_intervalschedule AFTER UPDATE ON django_celery_beat_intervalschedule FOR EACH ROW
BEGIN
  IF NOT (OLD.`id` <=> NEW.`id`
         AND OLD.`every` <=> NEW.`every`
         AND BINARY OLD.`period` <=> BINARY NEW.`period`) THEN
    INSERT INTO dbbeat_change (table_name, row_id, op, changed_at) VALUES ('django_celery_beat_intervalschedule', NEW.id, 'UPDATE', UTC_TIMESTAMP(6));
    INSERT INTO django_celery_beat_periodictasks (ident, last_update) VALUES (1, UTC_TIMESTAMP(6))
      ON DUPLICATE KEY UPDATE last_update = IF(last_update < VALUES(last_update), VALUES(last_update), last_update);
  END IF;
END;

DROP TRIGGER IF EXISTS dbbeat_log_insert_crontabschedule;
CREATE TRIGGER dbbeat_log_insert_crontabschedule AFTER INSERT ON django_celery_beat_crontabschedule FOR EACH ROW
BEGIN
  INSERT INTO dbbeat_change (table_name, row_id, op, changed_at) VALUES ('django_celery_beat_crontabschedule', NEW.id, 'INSERT', UTC_TIMESTAMP(6));
  INSERT INTO django_celery_beat_periodictasks (ident, last_update) VALUES (1, UTC_TIMESTAMP(6))
    ON DUPLICATE KEY UPDATE last_update = IF(last_update < VALUES(last_update), VALUES(last_update), last_update);
END;

DROP TRIGGER IF EXISTS dbbeat_log_delete_crontabschedule;
CREATE TRIGGER dbbeat_log_delete_crontabschedule AFTER DELETE ON django_celery_beat_crontabschedule FOR EACH ROW
BEGIN
  INSERT INTO dbbeat_change (table_name, row_id, op, changed_at) VALUES ('django_celery_beat_crontabschedule', OLD.id, 'DELETE', UTC_TIMESTAMP(6));
  INSERT INTO django_celery_beat_periodictasks (ident, last_update) VALUES (1, UTC_TIMESTAMP(6))
    ON DUPLICATE KEY UPDATE last_update = IF(last_update < VALUES(last_update), VALUES(last_update), last_update);
END;

DROP TRIGGER IF EXISTS dbbeat_log_update_crontabschedule;
CREATE TRIGGER dbbeat_log_update_crontabschedule AFTER UPDATE ON django_celery_beat_crontabschedule FOR EACH ROW
BEGIN
  IF NOT (OLD.`id` <=> NEW.`id`
         AND BINARY OLD.`minute` <=> BINARY NEW.`minute`
         AND BINARY OLD.`hour` <=> BINARY NEW.`hour`
         AND BINARY OLD.`day_of_week` <=> BINARY NEW.`day_of_week`
         AND BINARY OLD.`day_of_month` <=> BINARY NEW.`day_of_month`
         AND BINARY OLD.`month_of_year` <=> BINARY NEW.`month_of_year`
         AND BINARY OLD.`timezone` <=> BINARY NEW.`timezone`) THEN
    INSERT INTO dbbeat_change (table_name, row_id, op, changed_at) VALUES ('django_celery_beat_crontabschedule', NEW.id, 'UPDATE', UTC_TIMESTAMP(6));
    INSERT INTO django_celery_beat_periodictasks (ident, last_update) VALUES (1, UTC_TIMESTAMP(6))
      ON DUPLICATE KEY UPDATE last_update = IF(last_update < VALUES(last_update), VALUES(last_update), last_update);
  END IF;
END;

DROP TRIGGER IF EXISTS dbbeat_log_insert_solarschedule;
CREATE TRIGGER dbbeat_log_insert_solarschedule AFTER INSERT ON django_celery_beat_solarschedule FOR EACH ROW
BEGIN
  INSERT INTO dbbeat_change (table_name, row_id, op, changed_at) VALUES ('django_celery_beat_solarschedule', NEW.id, 'INSERT', UTC_TIMESTAMP(6));
  INSERT INTO django_celery_beat_periodictasks (ident, last_update) VALUES (1, UTC_TIMESTAMP(6))
    ON DUPLICATE KEY UPDATE last_update = IF(last_update < VALUES(last_update), VALUES(last_update), last_update);
END;

DROP TRIGGER IF EXISTS dbbeat_log_delete_solarschedule;
CREATE TRIGGER dbbeat_log_delete_solarschedule AFTER DELETE ON django_celery_beat_solarschedule FOR EACH ROW
BEGIN
  INSERT INTO dbbeat_change (table_name, row_id, op, changed_at) VALUES ('django_celery_beat_solarschedule', OLD.id, 'DELETE', UTC_TIMESTAMP(6));
  INSERT INTO django_celery_beat_periodictasks (ident, last_update) VALUES (1, UTC_TIMESTAMP(6))
    ON DUPLICATE KEY UPDATE last_update = IF(last_update < VALUES(last_update), VALUES(last_update), last_update);
END;

DROP TRIGGER IF EXISTS dbbeat_log_update_solarschedule;
CREATE TRIGGER dbbeat_log_update_solarschedule AFTER UPDATE ON django_celery_beat_solarschedule FOR EACH ROW
BEGIN
  IF NOT (OLD.`id` <=> NEW.`id`
         AND OLD.`latitude` <=> NEW.`latitude`
         AND OLD.`longitude` <=> NEW.`longitude`
         AND BINARY OLD.`event` <=> BINARY NEW.`event`) THEN
    INSERT INTO dbbeat_change (table_name, row_id, op, changed_at) VALUES ('django_celery_beat_solarschedule', NEW.id, 'UPDATE', UTC_TIMESTAMP(6));
    INSERT INTO django_celery_beat_periodictasks (ident, last_update) VALUES (1, UTC_TIMESTAMP(6))
      ON DUPLICATE KEY UPDATE last_update = IF(last_update < VALUES(last_update), VALUES(last_update), last_update);
  END IF;
END;

DROP TRIGGER IF EXISTS dbbeat_log_insert_clockedschedule;
CREATE TRIGGER dbbeat_log_insert_clockedschedule AFTER INSERT ON django_celery_beat_clockedschedule FOR EACH ROW
BEGIN
  INSERT INTO dbbeat_change (table_name, row_id, op, changed_at) VALUES ('django_celery_beat_clockedschedule', NEW.id, 'INSERT', UTC_TIMESTAMP(6));
  INSERT INTO django_celery_beat_periodictasks (ident, last_update) VALUES (1, UTC_TIMESTAMP(6))
    ON DUPLICATE KEY UPDATE last_update = IF(last_update < VALUES(last_update), VALUES(last_update), last_update);
END;

DROP TRIGGER IF EXISTS dbbeat_log_delete_clockedschedule;
CREATE TRIGGER dbbeat_log_delete_clockedschedule AFTER DELETE ON django_celery_beat_clockedschedule FOR EACH ROW
BEGIN
  INSERT INTO dbbeat_change (table_name, row_id, op, changed_at) VALUES ('django_celery_beat_clockedschedule', OLD.id, 'DELETE', UTC_TIMESTAMP(6));
  INSERT INTO django_celery_beat_periodictasks (ident, last_update) VALUES (1, UTC_TIMESTAMP(6))
    ON DUPLICATE KEY UPDATE last_update = IF(last_update < VALUES(last_update), VALUES(last_update), last_update);
END;

DROP TRIGGER IF EXISTS dbbeat_log_update_clockedschedule;
CREATE TRIGGER dbbeat_log_update_clockedschedule AFTER UPDATE ON django_celery_beat_clockedschedule FOR EACH ROW
BEGIN
  IF NOT (OLD.`id` <=> NEW.`id`
         AND OLD.`clocked_time` <=> NEW.`clocked_time`) THEN
    INSERT INTO dbbeat_change (table_name, row_id, op, changed_at) VALUES ('django_celery_beat_clockedschedule', NEW.id, 'UPDATE', UTC_TIMESTAMP(6));
    INSERT INTO django_celery_beat_periodictasks (ident, last_update) VALUES (1, UTC_TIMESTAMP(6))
      ON DUPLICATE KEY UPDATE last_update = IF(last_update < VALUES(last_update), VALUES(last_update), last_update);
  END IF;
END;

DROP TRIGGER IF EXISTS dbbeat_log_insert_periodictask;
CREATE TRIGGER dbbeat_log_insert_periodictask AFTER INSERT ON django_celery_beat_periodictask FOR EACH ROW
BEGIN
  INSERT INTO dbbeat_change (table_name, row_id, op, changed_at) VALUES ('django_celery_beat_periodictask', NEW.id, 'INSERT', UTC_TIMESTAMP(6));
  INSERT INTO django_celery_beat_periodictasks (ident, last_update) VALUES (1, UTC_TIMESTAMP(6))
    ON DUPLICATE KEY UPDATE last_update = IF(last_update < VALUES(last_update), VALUES(last_update), last_update);
END;

DROP TRIGGER IF EXISTS dbbeat_log_delete_periodictask;
CREATE TRIGGER dbbeat_log_delete_periodictask AFTER DELETE ON django_celery_beat_periodictask FOR EACH ROW
BEGIN
  INSERT INTO dbbeat_change (table_name, row_id, op, changed_at) VALUES ('django_celery_beat_periodictask', OLD.id, 'DELETE', UTC_TIMESTAMP(6));
  INSERT INTO django_celery_beat_periodictasks (ident, last_update) VALUES (1, UTC_TIMESTAMP(6))
    ON DUPLICATE KEY UPDATE last_update = IF(last_update < VALUES(last_update), VALUES(last_update), last_update);
END;

-- Every column but id, last_run_at and total_run_count. A column that Django adds
-- later must be added here by a new migration.
DROP TRIGGER IF EXISTS dbbeat_log_update_periodictask;
CREATE TRIGGER dbbeat_log_update_periodictask AFTER UPDATE ON django_celery_beat_periodictask FOR EACH ROW
BEGIN
  IF NOT (OLD.`id` <=> NEW.`id`
         AND OLD.`expires` <=> NEW.`expires`
         AND OLD.`enabled` <=> NEW.`enabled`
         AND OLD.`date_changed` <=> NEW.`date_changed`
         AND OLD.`crontab_id` <=> NEW.`crontab_id`
         AND OLD.`interval_id` <=> NEW.`interval_id`
         AND OLD.`solar_id` <=> NEW.`solar_id`
         AND OLD.`one_off` <=> NEW.`one_off`
         AND OLD.`start_time` <=> NEW.`start_time`
         AND OLD.`priority` <=> NEW.`priority`
         AND OLD.`clocked_id` <=> NEW.`clocked_id`
         AND OLD.`expire_seconds` <=> NEW.`expire_seconds`
         AND BINARY OLD.`name` <=> BINARY NEW.`name`
         AND BINARY OLD.`task` <=> BINARY NEW.`task`
         AND BINARY OLD.`args` <=> BINARY NEW.`args`
         AND BINARY OLD.`kwargs` <=> BINARY NEW.`kwargs`
         AND BINARY OLD.`queue` <=> BINARY NEW.`queue`
         AND BINARY OLD.`exchange` <=> BINARY NEW.`exchange`
         AND BINARY OLD.`routing_key` <=> BINARY NEW.`routing_key`
         AND BINARY OLD.`description` <=> BINARY NEW.`description`
         AND BINARY OLD.`headers` <=> BINARY NEW.`headers`) THEN
    INSERT INTO dbbeat_change (table_name, row_id, op, changed_at) VALUES ('django_celery_beat_periodictask', NEW.id, 'UPDATE', UTC_TIMESTAMP(6));
    INSERT INTO django_celery_beat_periodictasks (ident, last_update) VALUES (1, UTC_TIMESTAMP(6))
      ON DUPLICATE KEY UPDATE last_update = IF(last_update < VALUES(last_update), VALUES(last_update), last_update);
  END IF;
END;

-- Django deletes a schedule's tasks itself (in Python) and its foreign keys have no
-- ON DELETE action. So that a raw DELETE of a schedule also removes its tasks, on tables
-- created by Django and by dbbeat alike, these triggers do the cascade (before the row
-- goes, so InnoDB's immediate foreign-key check passes).

DROP TRIGGER IF EXISTS dbbeat_delete_tasks_intervalschedule;
CREATE TRIGGER dbbeat_delete_tasks_intervalschedule BEFORE DELETE ON django_celery_beat_intervalschedule FOR EACH ROW
  DELETE FROM django_celery_beat_periodictask WHERE interval_id = OLD.id;

DROP TRIGGER IF EXISTS dbbeat_delete_tasks_crontabschedule;
CREATE TRIGGER dbbeat_delete_tasks_crontabschedule BEFORE DELETE ON django_celery_beat_crontabschedule FOR EACH ROW
  DELETE FROM django_celery_beat_periodictask WHERE crontab_id = OLD.id;

DROP TRIGGER IF EXISTS dbbeat_delete_tasks_solarschedule;
CREATE TRIGGER dbbeat_delete_tasks_solarschedule BEFORE DELETE ON django_celery_beat_solarschedule FOR EACH ROW
  DELETE FROM django_celery_beat_periodictask WHERE solar_id = OLD.id;

DROP TRIGGER IF EXISTS dbbeat_delete_tasks_clockedschedule;
CREATE TRIGGER dbbeat_delete_tasks_clockedschedule BEFORE DELETE ON django_celery_beat_clockedschedule FOR EACH ROW
  DELETE FROM django_celery_beat_periodictask WHERE clocked_id = OLD.id;
