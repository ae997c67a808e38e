"""gunicorn's settings (Dockerfile, docker-compose.yml: `--config config/gunicorn.conf.py`).

The access log names the path without its query string and without the referrer: either may
carry an API key or a phone number, and a log is read by more people than the database.
"""

access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(a)s" %(M)sms'
