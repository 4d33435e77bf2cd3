// The django-celery-beat migrations that dbbeat's own migrations record as
// applied in Django's `django_migrations` (migrations/0005_django_migrations.sql,
// migrations/mysql/0004_django_migrations.sql), so that Django's plain
// `migrate` on a database dbbeat made finds nothing to do. One list for every
// dialect: a test checks that each SQL file inserts exactly these, in order.
//
// Which names: every migration of django-celery-beat 2.4 up to 2.8, in the
// order Django applies them (its dependency graph), whose result the tables of
// migrations/0001 already hold. Later migrations (2.9's 0020…) are left out on
// purpose: a newer django-celery-beat then applies them itself, on top of the
// state they expect. An unknown name (0017–0019 under 2.4) is ignored by Django.

/** Names recorded for app `django_celery_beat`, in the order Django applies them. */
export const DJANGO_CELERY_BEAT_MIGRATIONS: readonly string[] = Object.freeze([
  '0001_initial',
  '0002_auto_20161118_0346',
  '0003_auto_20161209_0049',
  '0004_auto_20170221_0000',
  '0005_add_solarschedule_events_choices',
  '0006_auto_20180322_0932',
  '0007_auto_20180521_0826',
  '0008_auto_20180914_1922',
  '0006_auto_20180210_1226',
  '0006_periodictask_priority',
  '0009_periodictask_headers',
  '0010_auto_20190429_0326',
  '0011_auto_20190508_0153',
  '0012_periodictask_expire_seconds',
  '0013_auto_20200609_0727',
  '0014_remove_clockedschedule_enabled',
  '0015_edit_solarschedule_events_choices',
  '0016_alter_crontabschedule_timezone',
  '0017_alter_crontabschedule_month_of_year',
  '0018_improve_crontab_helptext',
  '0019_alter_periodictasks_options',
]);
