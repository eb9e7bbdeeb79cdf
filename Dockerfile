# One image for web, worker, beat and the one-shot migrations (docker-compose.yml picks the
# command). The base image is pinned to an exact release: raise it deliberately.
#
# CI has no Docker: .ci/replay_dockerfile.py replays this file's ENV lines and its `python`
# RUN steps in a clean virtualenv and boots the result, so keep those steps plain shell.
FROM python:3.11.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONPATH=/app \
    DJANGO_ENV=production \
    CRM_VAR_DIR=/app/var \
    STATIC_ROOT=/app/staticfiles \
    PROMETHEUS_MULTIPROC_DIR=/app/var/prometheus

WORKDIR /app
RUN useradd --create-home --uid 1000 app

# The dependencies, in a layer that changes only with pyproject.toml. The project itself is
# not installed as a package: its code runs from /app, copied once, below.
COPY pyproject.toml ./
RUN python -c "import subprocess, sys, tomllib; deps = tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']; subprocess.check_call([sys.executable, '-m', 'pip', 'install', *deps])"

COPY . .
# Static files, collected under the production settings (DJANGO_ENV above): the hashed names
# and the manifest the production storage serves. Throwaway secrets are enough for that and
# stay out of the image.
RUN SECRET_KEY=collectstatic-only ALLOWED_HOSTS=localhost \
    FIELD_ENCRYPTION_KEY=$(python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())") \
    python manage.py collectstatic --noinput
RUN mkdir -p /app/var && chown -R app:app /app/var

USER app
EXPOSE 8000
CMD ["gunicorn", "crm_messaging.wsgi", "--config", "gunicorn.conf.py"]
