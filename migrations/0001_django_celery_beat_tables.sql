-- django-celery-beat's tables, exactly as Django's `migrate` creates them in PostgreSQL
-- (names of tables, columns, constraints and indexes taken from `pg_dump -s` of a database
-- migrated by django-celery-beat; lengths as in django-celery-beat 2.9).
--
-- Every statement is guarded (IF NOT EXISTS), so on a database where Django already
-- created these tables this file changes nothing: dbbeat adopts them as they are.
-- Append-only: never edit this file once released; add a new numbered file instead.

CREATE TABLE IF NOT EXISTS django_celery_beat_clockedschedule (
    id serial NOT NULL,
    clocked_time timestamp with time zone NOT NULL,
    CONSTRAINT django_celery_beat_clockedschedule_pkey PRIMARY KEY (id)
);

CREATE TABLE IF NOT EXISTS django_celery_beat_crontabschedule (
    id serial NOT NULL,
    minute character varying(240) NOT NULL,
    hour character varying(96) NOT NULL,
    day_of_week character varying(64) NOT NULL,
    day_of_month character varying(124) NOT NULL,
    month_of_year character varying(64) NOT NULL,
    timezone character varying(63) NOT NULL,
    CONSTRAINT django_celery_beat_crontabschedule_pkey PRIMARY KEY (id)
);

CREATE TABLE IF NOT EXISTS django_celery_beat_intervalschedule (
    id serial NOT NULL,
    every integer NOT NULL,
    period character varying(24) NOT NULL,
    CONSTRAINT django_celery_beat_intervalschedule_pkey PRIMARY KEY (id)
);

CREATE TABLE IF NOT EXISTS django_celery_beat_solarschedule (
    id serial NOT NULL,
    event character varying(24) NOT NULL,
    latitude numeric(9,6) NOT NULL,
    longitude numeric(9,6) NOT NULL,
    CONSTRAINT django_celery_beat_solarschedule_pkey PRIMARY KEY (id),
    CONSTRAINT django_celery_beat_solar_event_latitude_longitude_ba64999a_uniq UNIQUE (event, latitude, longitude)
);

-- The foreign keys are Django's: DEFERRABLE INITIALLY DEFERRED, no ON DELETE action.
-- Deleting a schedule deletes its tasks through a trigger (see 0003), which works the
-- same on tables Django created and on tables created here.
CREATE TABLE IF NOT EXISTS django_celery_beat_periodictask (
    id serial NOT NULL,
    name character varying(200) NOT NULL,
    task character varying(200) NOT NULL,
    args text NOT NULL,
    kwargs text NOT NULL,
    queue character varying(200),
    exchange character varying(200),
    routing_key character varying(200),
    expires timestamp with time zone,
    enabled boolean NOT NULL,
    last_run_at timestamp with time zone,
    total_run_count integer NOT NULL,
    date_changed timestamp with time zone NOT NULL,
    description text NOT NULL,
    crontab_id integer,
    interval_id integer,
    solar_id integer,
    one_off boolean NOT NULL,
    start_time timestamp with time zone,
    priority integer,
    headers text NOT NULL,
    clocked_id integer,
    expire_seconds integer,
    CONSTRAINT django_celery_beat_periodictask_pkey PRIMARY KEY (id),
    CONSTRAINT django_celery_beat_periodictask_name_key UNIQUE (name),
    CONSTRAINT django_celery_beat_periodictask_expire_seconds_check CHECK ((expire_seconds >= 0)),
    CONSTRAINT django_celery_beat_periodictask_priority_check CHECK ((priority >= 0)),
    CONSTRAINT django_celery_beat_periodictask_total_run_count_check CHECK ((total_run_count >= 0)),
    CONSTRAINT django_celery_beat_p_clocked_id_47a69f82_fk_django_ce FOREIGN KEY (clocked_id)
        REFERENCES django_celery_beat_clockedschedule(id) DEFERRABLE INITIALLY DEFERRED,
    CONSTRAINT django_celery_beat_p_crontab_id_d3cba168_fk_django_ce FOREIGN KEY (crontab_id)
        REFERENCES django_celery_beat_crontabschedule(id) DEFERRABLE INITIALLY DEFERRED,
    CONSTRAINT django_celery_beat_p_interval_id_a8ca27da_fk_django_ce FOREIGN KEY (interval_id)
        REFERENCES django_celery_beat_intervalschedule(id) DEFERRABLE INITIALLY DEFERRED,
    CONSTRAINT django_celery_beat_p_solar_id_a87ce72c_fk_django_ce FOREIGN KEY (solar_id)
        REFERENCES django_celery_beat_solarschedule(id) DEFERRABLE INITIALLY DEFERRED
);

CREATE INDEX IF NOT EXISTS django_celery_beat_periodictask_clocked_id_47a69f82
    ON django_celery_beat_periodictask USING btree (clocked_id);
CREATE INDEX IF NOT EXISTS django_celery_beat_periodictask_crontab_id_d3cba168
    ON django_celery_beat_periodictask USING btree (crontab_id);
CREATE INDEX IF NOT EXISTS django_celery_beat_periodictask_interval_id_a8ca27da
    ON django_celery_beat_periodictask USING btree (interval_id);
CREATE INDEX IF NOT EXISTS django_celery_beat_periodictask_name_265a36b7_like
    ON django_celery_beat_periodictask USING btree (name varchar_pattern_ops);
CREATE INDEX IF NOT EXISTS django_celery_beat_periodictask_solar_id_a87ce72c
    ON django_celery_beat_periodictask USING btree (solar_id);

CREATE TABLE IF NOT EXISTS django_celery_beat_periodictasks (
    ident smallint NOT NULL,
    last_update timestamp with time zone NOT NULL,
    CONSTRAINT django_celery_beat_periodictasks_pkey PRIMARY KEY (ident)
);

-- The single row that PeriodicTasks.changed() bumps; Django creates it lazily.
INSERT INTO django_celery_beat_periodictasks (ident, last_update)
VALUES (1, clock_timestamp())
ON CONFLICT (ident) DO NOTHING;
