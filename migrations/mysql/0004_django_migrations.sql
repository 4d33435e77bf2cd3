-- Records django-celery-beat's migrations as applied in Django's own django_migrations
-- (created as Django creates it when absent), so that Django's plain `migrate` on a
-- database that dbbeat made does not try to create the tables again.
-- Only when Django has recorded nothing for the app: on a database that Django made, its
-- history is left exactly as it is. The names are those of django-celery-beat 2.4 to 2.8,
-- in the order Django applies them; the tables of 0001 are what they leave behind.

CREATE TABLE IF NOT EXISTS django_migrations (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `app` varchar(255) NOT NULL,
  `name` varchar(255) NOT NULL,
  `applied` datetime(6) NOT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB;

INSERT INTO django_migrations (app, name, applied)
SELECT 'django_celery_beat', names.name, UTC_TIMESTAMP(6)
FROM (
            SELECT 1 AS position, '0001_initial' AS name
  UNION ALL SELECT 2, '0002_auto_20161118_0346'
  UNION ALL SELECT 3, '0003_auto_20161209_0049'
  UNION ALL SELECT 4, '0004_auto_20170221_0000'
  UNION ALL SELECT 5, '0005_add_solarschedule_events_choices'
  UNION ALL SELECT 6, '0006_auto_20180322_0932'
  UNION ALL SELECT 7, '0007_auto_20180521_0826'
  UNION ALL SELECT 8, '0008_auto_20180914_1922'
  UNION ALL SELECT 9, '0006_auto_20180210_1226'
  UNION ALL SELECT 10, '0006_periodictask_priority'
  UNION ALL SELECT 11, '0009_periodictask_headers'
  UNION ALL SELECT 12, '0010_auto_20190429_0326'
  UNION ALL SELECT 13, '0011_auto_20190508_0153'
  UNION ALL SELECT 14, '0012_periodictask_expire_seconds'
  UNION ALL SELECT 15, '0013_auto_20200609_0727'
  UNION ALL SELECT 16, '0014_remove_clockedschedule_enabled'
  UNION ALL SELECT 17, '0015_edit_solarschedule_events_choices'
  UNION ALL SELECT 18, '0016_alter_crontabschedule_timezone'
  UNION ALL SELECT 19, '0017_alter_crontabschedule_month_of_year'
  UNION ALL SELECT 20, '0018_improve_crontab_helptext'
  UNION ALL SELECT 21, '0019_alter_periodictasks_options'
) AS names
WHERE NOT EXISTS (SELECT 1 FROM django_migrations WHERE app = 'django_celery_beat')
ORDER BY names.position;
