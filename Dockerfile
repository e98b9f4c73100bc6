FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY config ./config
COPY accounts ./accounts
COPY inbox ./inbox
COPY instagram ./instagram
RUN pip install .

COPY . .
# Build-time values only: collectstatic needs settings to load, not real secrets.
RUN DEBUG=false SECRET_KEY=build ALLOWED_HOSTS=build TOKEN_ENCRYPTION_KEYS=build \
    python manage.py collectstatic --noinput -v0 \
    && useradd --create-home --uid 1000 inbox \
    && mkdir -p /app/media /app/var \
    && chown -R inbox /app/media /app/var
USER inbox

EXPOSE 8000
CMD ["gunicorn", "config.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
