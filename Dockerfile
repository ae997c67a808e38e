# The portal's one image: web (gunicorn), Celery worker and Celery beat (see docker-compose.yml).
FROM python:3.11-slim

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
RUN pip install . \
    # A throwaway key: collectstatic reads settings but signs nothing.
    && SECRET_KEY=collectstatic-only ALLOWED_HOSTS=localhost \
       python manage.py collectstatic --noinput \
    && mkdir -p var/media \
    && chown -R portal:portal var

USER portal
EXPOSE 8000

CMD ["gunicorn", "config.wsgi:application", "--config", "config/gunicorn.conf.py", \
     "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-", \
     "--forwarded-allow-ips", "*"]
