-- django-celery-beat's own bookkeeping is not a change either. Its beat saves a task
-- after each run with a full `save()`, which also moves `date_changed` (auto_now); it
-- marks that save `no_changes`, so Django does not bump `last_update`. The trigger of
-- 0003 counted `date_changed` and so bumped it, and a django-celery-beat running on
-- this database (while a team switches over) then saw "Schedule changed", reloaded
-- every entry with the last runs it had not yet synced, and sent catch-up runs again.
-- An UPDATE that changes nothing but last_run_at, total_run_count and date_changed
-- now changes nothing for beat; any other column still counts.
-- Append-only: never edit this file once released; add a new numbered file instead.

DROP TRIGGER IF EXISTS dbbeat_log_update ON django_celery_beat_periodictask;
CREATE TRIGGER dbbeat_log_update AFTER UPDATE ON django_celery_beat_periodictask FOR EACH ROW WHEN (
    (OLD.name, OLD.task, OLD.args, OLD.kwargs, OLD.queue, OLD.exchange, OLD.routing_key,
     OLD.expires, OLD.enabled, OLD.description, OLD.crontab_id,
     OLD.interval_id, OLD.solar_id, OLD.one_off, OLD.start_time, OLD.priority, OLD.headers,
     OLD.clocked_id, OLD.expire_seconds) IS DISTINCT FROM
    (NEW.name, NEW.task, NEW.args, NEW.kwargs, NEW.queue, NEW.exchange, NEW.routing_key,
     NEW.expires, NEW.enabled, NEW.description, NEW.crontab_id,
     NEW.interval_id, NEW.solar_id, NEW.one_off, NEW.start_time, NEW.priority, NEW.headers,
     NEW.clocked_id, NEW.expire_seconds))
    EXECUTE FUNCTION dbbeat_log_change();
