-- django-celery-beat's own bookkeeping is not a change either (as PostgreSQL's 0006).
-- Its beat saves a task after each run with a full `save()`, which also moves
-- `date_changed` (auto_now); it marks that save `no_changes`, so Django does not bump
-- `last_update`. The trigger of 0003 counted `date_changed`, logged a change and bumped
-- last_update, and a django-celery-beat running on this database (while a team switches
-- over) then saw "Schedule changed", reloaded every entry with the last runs it had not
-- yet synced, and sent catch-up runs again. An UPDATE that changes nothing but
-- last_run_at, total_run_count and date_changed now changes nothing for beat; any other
-- column still counts (text columns compared as bytes, as in 0003).
-- Append-only: never edit this file once released; add a new numbered file instead.

DROP TRIGGER IF EXISTS dbbeat_log_update_periodictask;
CREATE TRIGGER dbbeat_log_update_periodictask AFTER UPDATE ON django_celery_beat_periodictask FOR EACH ROW
BEGIN
  IF NOT (OLD.`id` <=> NEW.`id`
         AND OLD.`expires` <=> NEW.`expires`
         AND OLD.`enabled` <=> NEW.`enabled`
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
