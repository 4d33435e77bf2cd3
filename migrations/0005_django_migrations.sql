-- Records django-celery-beat's migrations as applied in Django's own django_migrations
-- (created exactly as Django 3.2+ creates it in PostgreSQL when it is absent), so that
-- Django's plain `migrate` on a database that dbbeat made does not try to create the
-- tables again. Only when Django has recorded nothing for the app: on a database that
-- Django made, its history is left exactly as it is. The names (one list for every
-- dialect: src/db/django-migrations.ts) are those of django-celery-beat 2.4 to 2.8, in
-- the order Django applies them; the tables of 0001 are what they leave behind. Later
-- ones are left for a newer django-celery-beat to apply.
-- Append-only: never edit this file once released; add a new numbered file instead.

CREATE TABLE IF NOT EXISTS django_migrations (
    id serial NOT NULL,
    app character varying(255) NOT NULL,
    name character varying(255) NOT NULL,
    applied timestamp with time zone NOT NULL,
    CONSTRAINT django_migrations_pkey PRIMARY KEY (id)
);

INSERT INTO django_migrations (app, name, applied)
SELECT 'django_celery_beat', names.name, now()
FROM (VALUES
    (1, '0001_initial'),
    (2, '0002_auto_20161118_0346'),
    (3, '0003_auto_20161209_0049'),
    (4, '0004_auto_20170221_0000'),
    (5, '0005_add_solarschedule_events_choices'),
    (6, '0006_auto_20180322_0932'),
    (7, '0007_auto_20180521_0826'),
    (8, '0008_auto_20180914_1922'),
    (9, '0006_auto_20180210_1226'),
    (10, '0006_periodictask_priority'),
    (11, '0009_periodictask_headers'),
    (12, '0010_auto_20190429_0326'),
    (13, '0011_auto_20190508_0153'),
    (14, '0012_periodictask_expire_seconds'),
    (15, '0013_auto_20200609_0727'),
    (16, '0014_remove_clockedschedule_enabled'),
    (17, '0015_edit_solarschedule_events_choices'),
    (18, '0016_alter_crontabschedule_timezone'),
    (19, '0017_alter_crontabschedule_month_of_year'),
    (20, '0018_improve_crontab_helptext'),
    (21, '0019_alter_periodictasks_options')
) AS names (position, name)
WHERE NOT EXISTS (SELECT 1 FROM django_migrations WHERE app = 'django_celery_beat')
ORDER BY names.position;
