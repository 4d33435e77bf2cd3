"""Django settings for the worker's django-celery-results backend (result_backend='django-db').

DBBEAT_TEST_RESULTS_DB_URL names the database: postgres://… or mysql://… .
"""
import os
from urllib.parse import unquote, urlparse

_url = urlparse(os.environ["DBBEAT_TEST_RESULTS_DB_URL"])
_mysql = _url.scheme in ("mysql", "mariadb")

SECRET_KEY = "dbbeat-tests-only"
USE_TZ = True
TIME_ZONE = "UTC"
INSTALLED_APPS = ["django_celery_results"]
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.mysql" if _mysql else "django.db.backends.postgresql",
        "NAME": _url.path.lstrip("/"),
        "USER": unquote(_url.username or ("root" if _mysql else "postgres")),
        "PASSWORD": unquote(_url.password or ""),
        "HOST": _url.hostname or "127.0.0.1",
        "PORT": str(_url.port or (3306 if _mysql else 5432)),
        **({"OPTIONS": {"charset": "utf8mb4"}} if _mysql else {}),
    }
}
