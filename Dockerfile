# The service's image: gunicorn serving the app as a non-root user, static
# files collected at build. The same image runs the Celery worker and beat
# (compose.yaml). Configuration comes only from the environment (.env.example).

# --- front-end assets: GOV.UK Frontend and the service's Sass ---------------
FROM node:20-slim AS assets
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
COPY static/scss static/scss
RUN npx --no-install sass --no-source-map --style=compressed --load-path=node_modules \
        static/scss/app.scss static/css/app.css \
    && mkdir -p static/govuk \
    && cp node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js static/govuk/ \
    && cp -r node_modules/govuk-frontend/dist/govuk/assets static/govuk/

# --- the application ---------------------------------------------------------
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
# postgresql-client: pg_dump and pg_restore for `make backup` / `make restore`.
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 --shell /usr/sbin/nologin cpd
WORKDIR /app
COPY requirements.lock ./
RUN pip install --require-hashes -r requirements.lock
COPY --chown=cpd:cpd . .
COPY --from=assets --chown=cpd:cpd /build/static/css/app.css static/css/app.css
COPY --from=assets --chown=cpd:cpd /build/static/govuk static/govuk
# collectstatic needs no database or secret: it runs in the embedded mode.
RUN env -u DATABASE_URL -u CELERY_BROKER_URL python manage.py collectstatic --noinput -v0 \
    && rm -rf .local \
    && mkdir -p /var/lib/cpd/private /var/lib/cpd/erasures \
    && chown cpd:cpd /var/lib/cpd/private /var/lib/cpd/erasures
USER cpd
# The erasure log lives apart from the private files: restores replay it.
ENV PRIVATE_MEDIA_ROOT=/var/lib/cpd/private \
    ERASURE_LOG_PATH=/var/lib/cpd/erasures/erasure-log.jsonl
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
    CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"
CMD ["gunicorn", "config.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", \
     "--access-logfile", "-", "--graceful-timeout", "20"]
