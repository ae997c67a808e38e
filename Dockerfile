# The portal's two images (docker-compose.yml, tagged with the release, PORTAL_VERSION):
#   app   — the one-shot migrate, web (gunicorn), the Celery worker and Celery beat;
#   nginx — nginx with the static files collected here and ops/nginx/portal.conf.
# `docker build .` without --target gives the app image.
FROM python:3.11-slim AS app

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    # Run the source tree in /app (templates, static, locale sit beside the packages).
    PYTHONPATH=/app \
    DJANGO_ENV=production

WORKDIR /app

RUN groupadd --system --gid 1000 portal \
    && useradd --system --uid 1000 --gid portal --home-dir /app --shell /usr/sbin/nologin portal

COPY . .
# constraints.txt pins every dependency to the version CI tested (`make install` uses it too).
# collectstatic reads settings but signs and connects to nothing, so it runs under the local
# settings (the same STORAGES, from base.py): production's would rightly refuse to start without
# the real secrets, which a build must never hold.
RUN pip install -c constraints.txt . \
    && DJANGO_ENV=local python manage.py collectstatic --noinput \
    && mkdir -p var/media \
    && chown -R portal:portal var

USER portal
EXPOSE 8000

CMD ["gunicorn", "config.wsgi:application", "--config", "config/gunicorn.conf.py"]


FROM nginx:1.28 AS nginx
# Static files of the same release: a rollback to an older tag brings its own CSS and JS back.
COPY --from=app /app/var/staticfiles /app/var/staticfiles
COPY ops/nginx/portal.conf /etc/nginx/conf.d/default.conf


FROM app
