-- Change tracking, so that writes made anywhere (our client, raw SQL, Django's bulk
-- update()) reach the beat without anyone calling PeriodicTasks.changed():
--   * a row-level trigger logs each changed row in dbbeat_change;
--   * a statement-level trigger then, once per statement however many rows it touched,
--     bumps django_celery_beat_periodictasks.last_update (ident 1) and sends
--     NOTIFY dbbeat_change with the id of the statement's last logged change.
-- The beat's own bookkeeping (an UPDATE of a task that changes only last_run_at and
-- total_run_count) is filtered out by the WHEN clause: no log, no bump, no notify.
-- TRUNCATE is not tracked; call PeriodicTasks.changed() after one.

CREATE OR REPLACE FUNCTION dbbeat_log_change() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    logged_change_id bigint;
BEGIN
    INSERT INTO dbbeat_change (table_name, row_id, op)
    VALUES (TG_TABLE_NAME, CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END, TG_OP)
    RETURNING id INTO logged_change_id;
    -- Handed to dbbeat_announce_changes(), which runs at the end of the statement.
    PERFORM set_config('dbbeat.last_change_id', logged_change_id::text, true);
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION dbbeat_announce_changes() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    last_change_id text := current_setting('dbbeat.last_change_id', true);
BEGIN
    IF last_change_id IS NULL OR last_change_id = '' THEN
        RETURN NULL;  -- the statement changed nothing that counts
    END IF;
    PERFORM set_config('dbbeat.last_change_id', '', true);
    -- clock_timestamp(), not now(): a long transaction must not move last_update backwards.
    INSERT INTO django_celery_beat_periodictasks (ident, last_update)
    VALUES (1, clock_timestamp())
    ON CONFLICT (ident) DO UPDATE SET last_update = excluded.last_update;
    PERFORM pg_notify('dbbeat_change', last_change_id);
    RETURN NULL;
END;
$$;

-- Django deletes a schedule's tasks itself (in Python) and its foreign keys have no
-- ON DELETE action. So that a raw DELETE of a schedule also removes its tasks, on tables
-- created by Django and by dbbeat alike, this trigger does the cascade.
-- TG_ARGV[0] names the task column that refers to the schedule table.
CREATE OR REPLACE FUNCTION dbbeat_delete_tasks_of_schedule() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('DELETE FROM django_celery_beat_periodictask WHERE %I = $1', TG_ARGV[0])
    USING OLD.id;
    RETURN OLD;
END;
$$;

DO $$
DECLARE
    tracked_table text;
BEGIN
    FOREACH tracked_table IN ARRAY ARRAY[
        'django_celery_beat_intervalschedule',
        'django_celery_beat_crontabschedule',
        'django_celery_beat_solarschedule',
        'django_celery_beat_clockedschedule',
        'django_celery_beat_periodictask'
    ] LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS dbbeat_log_insert_delete ON %I', tracked_table);
        EXECUTE format(
            'CREATE TRIGGER dbbeat_log_insert_delete AFTER INSERT OR DELETE ON %I '
            'FOR EACH ROW EXECUTE FUNCTION dbbeat_log_change()', tracked_table);

        EXECUTE format('DROP TRIGGER IF EXISTS dbbeat_log_update ON %I', tracked_table);
        IF tracked_table = 'django_celery_beat_periodictask' THEN
            -- Every column but id, last_run_at and total_run_count. An explicit row
            -- comparison: comparing to_jsonb(OLD/NEW) made beat's bookkeeping updates 3x slower.
            -- A column that Django adds later must be added here by a new migration.
            EXECUTE format(
                'CREATE TRIGGER dbbeat_log_update AFTER UPDATE ON %I FOR EACH ROW WHEN ('
                '(OLD.name, OLD.task, OLD.args, OLD.kwargs, OLD.queue, OLD.exchange, OLD.routing_key, '
                'OLD.expires, OLD.enabled, OLD.date_changed, OLD.description, OLD.crontab_id, '
                'OLD.interval_id, OLD.solar_id, OLD.one_off, OLD.start_time, OLD.priority, OLD.headers, '
                'OLD.clocked_id, OLD.expire_seconds) IS DISTINCT FROM '
                '(NEW.name, NEW.task, NEW.args, NEW.kwargs, NEW.queue, NEW.exchange, NEW.routing_key, '
                'NEW.expires, NEW.enabled, NEW.date_changed, NEW.description, NEW.crontab_id, '
                'NEW.interval_id, NEW.solar_id, NEW.one_off, NEW.start_time, NEW.priority, NEW.headers, '
                'NEW.clocked_id, NEW.expire_seconds)) '
                'EXECUTE FUNCTION dbbeat_log_change()', tracked_table);
        ELSE
            EXECUTE format(
                'CREATE TRIGGER dbbeat_log_update AFTER UPDATE ON %I FOR EACH ROW '
                'WHEN (OLD.* IS DISTINCT FROM NEW.*) '
                'EXECUTE FUNCTION dbbeat_log_change()', tracked_table);
        END IF;

        EXECUTE format('DROP TRIGGER IF EXISTS dbbeat_announce_changes ON %I', tracked_table);
        EXECUTE format(
            'CREATE TRIGGER dbbeat_announce_changes AFTER INSERT OR UPDATE OR DELETE ON %I '
            'FOR EACH STATEMENT EXECUTE FUNCTION dbbeat_announce_changes()', tracked_table);
    END LOOP;
END;
$$;

DO $$
DECLARE
    schedule record;
BEGIN
    FOR schedule IN
        SELECT * FROM (VALUES
            ('django_celery_beat_intervalschedule', 'interval_id'),
            ('django_celery_beat_crontabschedule', 'crontab_id'),
            ('django_celery_beat_solarschedule', 'solar_id'),
            ('django_celery_beat_clockedschedule', 'clocked_id')
        ) AS pairs (table_name, task_column)
    LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS dbbeat_delete_tasks ON %I', schedule.table_name);
        EXECUTE format(
            'CREATE TRIGGER dbbeat_delete_tasks BEFORE DELETE ON %I FOR EACH ROW '
            'EXECUTE FUNCTION dbbeat_delete_tasks_of_schedule(%L)',
            schedule.table_name, schedule.task_column);
    END LOOP;
END;
$$;
