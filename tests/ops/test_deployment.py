"""The compose file and the Dockerfile, read as a deployment would read them.

Docker is not on these machines; .ci/replay_dockerfile.py builds and boots the image's
steps. These tests check the structure: the order of start-up, the health checks, where
secrets come from, what is published, and what the image pins.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
APP_SERVICES = ("web", "worker", "beat")
# What the compose file sets whatever .env says: the stack's mode and its own services.
COMPOSE_FIXED = {"DJANGO_ENV", "DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"}
SECRET_WORDS = ("PASSWORD", "SECRET", "KEY", "TOKEN", "DSN", "AUTH")
VARIABLE = re.compile(r"\$\{(\w+)(?::?([-?])([^}]*))?\}")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def interpolate(value: str, environment: dict[str, str]) -> str:
    """Compose's ``${VAR}``, ``${VAR:-default}`` and ``${VAR:?error}`` with ``environment``."""

    def one(match: re.Match[str]) -> str:
        name, kind, rest = match.groups()
        if environment.get(name):
            return environment[name]
        if kind == "?":
            raise KeyError(f"{name} is required: {rest}")
        return rest if kind == "-" else ""

    return VARIABLE.sub(one, value)


def documented_variables() -> set[str]:
    """The variables of the README's configuration table (its first column)."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            names.update(re.findall(r"`([A-Z][A-Z0-9_]+)`", line.split("|")[1]))
    return names


def container_environment(service: dict[str, Any], dotenv: dict[str, str]) -> dict[str, str]:
    """What a service's container gets with ``dotenv`` as the project's .env file."""
    env_files = service.get("env_file") or []
    if isinstance(env_files, str | dict):
        env_files = [env_files]
    paths = [item["path"] if isinstance(item, dict) else item for item in env_files]
    environment = dict(dotenv) if ".env" in paths else {}
    for key, value in (service.get("environment") or {}).items():
        environment[key] = interpolate(str(value), dotenv)  # environment: wins over env_file:
    return environment


def test_every_documented_variable_set_in_dotenv_reaches_the_app_containers(
    compose: dict[str, Any],
) -> None:
    documented = documented_variables()
    assert {"TRUSTED_PROXIES", "INVOICE_VAT_RATE", "LOG_LEVEL", "EMAIL_USE_SSL"} <= documented
    assert documented >= COMPOSE_FIXED
    dotenv = {name: f"from-dotenv-{name.lower()}" for name in documented}
    dotenv["POSTGRES_PASSWORD"] = "from-the-env"
    for name in ("migrate", *APP_SERVICES):
        environment = container_environment(compose["services"][name], dotenv)
        lost = sorted(
            variable
            for variable in documented - COMPOSE_FIXED
            if environment.get(variable) != dotenv[variable]
        )
        assert not lost, f"{name}: set in .env but not reaching the container: {lost}"
        # The stack's own services, whatever .env says.
        assert environment["DJANGO_ENV"] == "production"
        assert ":from-the-env@db:5432/" in environment["DATABASE_URL"]
        assert environment["REDIS_URL"].startswith("redis://redis:6379/")
        assert environment["CELERY_BROKER_URL"].startswith("redis://redis:6379/")


def test_the_compose_defaults_apply_when_dotenv_sets_only_the_secrets(
    compose: dict[str, Any],
) -> None:
    secrets = {"SECRET_KEY": "s", "FIELD_ENCRYPTION_KEY": "f", "POSTGRES_PASSWORD": "p"}
    web = container_environment(compose["services"]["web"], secrets)
    worker = container_environment(compose["services"]["worker"], secrets)
    assert (web["LOG_FORMAT"], web["CONN_MAX_AGE"], web["ALLOWED_HOSTS"]) == (
        "json",
        "60",
        "localhost,127.0.0.1",
    )
    assert "CELERY_METRICS_PORT" not in web
    assert (worker["CELERY_METRICS_PORT"], worker["CELERY_METRICS_ADDRESS"]) == ("9808", "0.0.0.0")


def test_migrations_run_once_before_web_worker_and_beat(compose: dict[str, Any]) -> None:
    services = compose["services"]
    migrate = services["migrate"]
    assert "migrate" in " ".join(migrate["command"])
    assert migrate["restart"] == "no"
    for name in APP_SERVICES:
        service = services[name]
        assert service["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }, name
        assert service["depends_on"]["db"] == {"condition": "service_healthy"}
        assert service["depends_on"]["redis"] == {"condition": "service_healthy"}
        assert "migrate" not in " ".join(service["command"]), f"{name} must not migrate"


def test_every_long_running_service_has_a_health_check(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in ("db", "redis", *APP_SERVICES):
        assert services[name]["healthcheck"]["test"], name
    # The web probe asks the exempt path, so a real ALLOWED_HOSTS or SSL redirect cannot fail it.
    assert "http://127.0.0.1:8000/healthz" in " ".join(services["web"]["healthcheck"]["test"])
    assert "readiness" in services["beat"]["healthcheck"]["test"]


def test_no_password_or_key_is_written_in_the_file(compose: dict[str, Any]) -> None:
    def environments() -> list[tuple[str, str, str]]:
        found = []
        for name, service in compose["services"].items():
            for key, value in (service.get("environment") or {}).items():
                found.append((name, key, str(value)))
        return found

    for service, key, value in environments():
        if any(word in key for word in SECRET_WORDS):
            assert value.startswith("${") and value.endswith("}"), f"{service}: {key}={value}"
    url = compose["services"]["web"]["environment"]["DATABASE_URL"]
    secret = {"POSTGRES_PASSWORD": "from-the-env"}
    assert ":from-the-env@db:" in interpolate(url, secret)
    with pytest.raises(KeyError, match="POSTGRES_PASSWORD is required"):
        interpolate(url, {})
    assert "crm:crm@" not in (ROOT / "docker-compose.yml").read_text()


def test_port_8000_is_published_on_loopback_by_default(compose: dict[str, Any]) -> None:
    published = [interpolate(p, {}) for p in compose["services"]["web"]["ports"]]
    assert published == ["127.0.0.1:8000:8000"]
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            assert interpolate(port, {}).startswith("127.0.0.1:"), name


def test_images_are_pinned_and_flower_is_optional(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        image = service.get("image", "")
        if service.get("build"):
            continue
        assert re.search(r":\d+\.\d+(\.\d+)?(-[\w.]+)?$|@sha256:", image), f"{name}: {image}"
    assert compose["services"]["flower"]["profiles"] == ["flower"]


def test_the_dockerfile_pins_its_base_copies_the_code_once_and_collects_static_for_production() -> (
    None
):
    dockerfile = (ROOT / "Dockerfile").read_text()
    base = re.search(r"^FROM (\S+)", dockerfile, re.M)
    assert base and re.fullmatch(r"python:3\.11\.\d+-slim-\w+(@sha256:[0-9a-f]+)?", base.group(1))
    copies = re.findall(r"^COPY (.+)$", dockerfile, re.M)
    assert copies == ["pyproject.toml ./", ". ."]
    assert "pip install ." not in dockerfile  # the code would be in the image twice
    assert re.search(r"^\s+DJANGO_ENV=production", dockerfile, re.M)
    collect = next(line for line in dockerfile.splitlines() if "collectstatic" in line)
    assert "development" not in collect
