# One image for web, worker and beat (docker-compose.yml picks the command).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    CRM_VAR_DIR=/app/var

WORKDIR /app
RUN useradd --create-home --uid 1000 app

COPY pyproject.toml README.md ./
COPY crm_messaging ./crm_messaging
COPY guests ./guests
COPY channels_out ./channels_out
COPY campaigns ./campaigns
COPY interfaces ./interfaces
RUN pip install .

COPY . .
ENV STATIC_ROOT=/app/staticfiles
# Collect static files at build time; a throwaway key is enough for that.
RUN SECRET_KEY=collectstatic-only DJANGO_ENV=development python manage.py collectstatic --noinput \
    && mkdir -p /app/var && chown -R app:app /app/var

USER app
EXPOSE 8000
CMD ["gunicorn", "crm_messaging.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
