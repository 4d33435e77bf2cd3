"""Minimal Django settings for dbbeat's interop tests.

The database comes from DBBEAT_DJANGO_DATABASE_URL, e.g. postgres://postgres@127.0.0.1:5432/name.
"""
import os
from urllib.parse import urlparse

_url = urlparse(os.environ["DBBEAT_DJANGO_DATABASE_URL"])

SECRET_KEY = "dbbeat-tests-only"
USE_TZ = True
TIME_ZONE = "UTC"
INSTALLED_APPS = ["django_celery_beat"]
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": _url.path.lstrip("/"),
        "USER": _url.username or "postgres",
        "PASSWORD": _url.password or "",
        "HOST": _url.hostname or "127.0.0.1",
        "PORT": str(_url.port or 5432),
    }
}
