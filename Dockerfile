# One image for every role: web (gunicorn), worker and beat (Celery), migrate (one-shot).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_INPUT=1

WORKDIR /app

# Dependencies first, so code changes reuse this layer. Only wheels are used (psycopg-binary
# bundles libpq), so no compiler or system libraries are needed.
COPY requirements.lock ./
RUN pip install -r requirements.lock

RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home app

COPY . .

# Static files are collected at build time: no database is contacted, but the settings need
# DATABASE_URL and SECRET_KEY to import, so dummies are given for this one command.
ENV DJANGO_SETTINGS_MODULE=config.settings.production \
    VAR_DIR=/app/var \
    STATIC_ROOT=/app/staticfiles \
    WEB_CONCURRENCY=3
RUN DATABASE_URL=postgres://build:build@127.0.0.1:1/build \
    SECRET_KEY=build-only-dummy-secret-key-not-used-at-runtime-0123456789 \
    FIELD_ENCRYPTION_KEYS=k1:YnVpbGQtb25seS1kdW1teS1rZXktbm90LXVzZWQtMDA= \
    BLIND_INDEX_KEY=YnVpbGQtb25seS1kdW1teS1rZXktbm90LXVzZWQtMDA= \
    python manage.py collectstatic --noinput \
 && mkdir -p /app/var/media \
 && chown -R app:app /app/var

USER app
EXPOSE 8000

# gunicorn reads its worker count from WEB_CONCURRENCY.
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
