"""Minimal Django settings for the benchmark's django-celery-beat peer.

The database comes from BENCH_PEER_DB (a PostgreSQL database name on 127.0.0.1:5432).
"""
import os

SECRET_KEY = 'dbbeat-bench-peer'
DEBUG = False
USE_TZ = True
TIME_ZONE = 'UTC'
INSTALLED_APPS = ['django_celery_beat']
DATABASES = {
    'default': {
        'ENGINE': 'django.db.backends.postgresql',
        'NAME': os.environ['BENCH_PEER_DB'],
        'USER': 'postgres',
        'HOST': '127.0.0.1',
        'PORT': '5432',
    }
}
DEFAULT_AUTO_FIELD = 'django.db.models.AutoField'
LOGGING_CONFIG = None
