"""Django settings for dbbeat's MySQL/MariaDB interop tests.

DBBEAT_DJANGO_DATABASE_URL names the database (mysql://root@127.0.0.1:3306/name);
DBBEAT_DJANGO_USE_TZ ("1", the default, or "0") and DBBEAT_DJANGO_TIME_ZONE (default UTC)
set Django's USE_TZ and TIME_ZONE, the two settings that decide what its naive DATETIMEs mean.
"""
import os
from urllib.parse import unquote, urlparse

_url = urlparse(os.environ["DBBEAT_DJANGO_DATABASE_URL"])

SECRET_KEY = "dbbeat-tests-only"
USE_TZ = os.environ.get("DBBEAT_DJANGO_USE_TZ", "1") == "1"
TIME_ZONE = os.environ.get("DBBEAT_DJANGO_TIME_ZONE", "UTC")
INSTALLED_APPS = ["django_celery_beat"]
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.mysql",
        "NAME": _url.path.lstrip("/"),
        "USER": unquote(_url.username or "root"),
        "PASSWORD": unquote(_url.password or ""),
        "HOST": _url.hostname or "127.0.0.1",
        "PORT": str(_url.port or 3306),
        "OPTIONS": {"charset": "utf8mb4"},
    }
}
