"""Build the image without Docker, then boot it as production and probe it.

CI machines have no Docker, so this script replays the Dockerfile — the single source of
how the image is built — in a clean virtualenv:

1. reads the Dockerfile: ``WORKDIR``, ``ENV``, ``COPY``, ``RUN`` and ``CMD``, in order;
2. copies the build context (the repository's tracked files less ``.dockerignore``) the
   way each ``COPY`` does, into a scratch directory standing for the image's ``WORKDIR``
   (paths under it in ``ENV`` values point there instead);
3. runs every ``RUN`` step with the virtualenv's Python first on the ``PATH`` and only the
   image's environment (the installation of the dependencies, the collection of the static
   files); steps that need root inside an image (``useradd``, ``chown``, ``apt-get``) are
   listed as skipped;
4. migrates a fresh PostgreSQL database, starts the ``CMD`` (gunicorn) on a free loopback
   port and the Celery worker and beat of ``docker-compose.yml``, all with
   ``DJANGO_ENV=production``, ``ALLOWED_HOSTS`` set to a real-looking domain and the HTTPS
   redirect on (as behind a TLS proxy);
5. fetches the staff login, the guest portal login, the admin login and the stylesheet
   the login page links (through the proxy's headers), and the probes ``/healthz`` and
   ``/readyz`` by the bare address — all must answer 200.

    .venv/bin/python .ci/replay_dockerfile.py [--port N] [--database-url URL] \
        [--redis-url URL] [--broker-url URL] [--keep]

The database's name must contain "replay": it is dropped and created again.
"""

from __future__ import annotations

import argparse
import contextlib
import fnmatch
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from base64 import urlsafe_b64encode
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import yaml

REPO = Path(__file__).resolve().parent.parent
DOMAIN = "hotel.example"
PAGES = ("/accounts/login/", "/guest/login/", "/admin/login/")
PROBES = ("/healthz", "/readyz")
READY_TIMEOUT = 150.0


@dataclass
class Instruction:
    keyword: str
    argument: str


def log(message: str) -> None:
    print(f"[replay] {message}", flush=True)


def instructions(dockerfile: Path) -> list[Instruction]:
    """The Dockerfile's instructions, continuation lines joined, comments dropped."""
    result: list[Instruction] = []
    pending = ""
    for raw in dockerfile.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        keyword, _, argument = line.partition(" ")
        result.append(Instruction(keyword.upper(), argument.strip()))
    return result


def env_pairs(argument: str) -> dict[str, str]:
    """``ENV A=1 B="two words"`` (or the old ``ENV A 1``) as a dict."""
    words = shlex.split(argument)
    if words and "=" not in words[0]:
        return {words[0]: " ".join(words[1:])}
    return dict(word.split("=", 1) for word in words)


def ignored_patterns() -> list[str]:
    path = REPO / ".dockerignore"
    if not path.exists():
        return []
    return [
        p.strip().rstrip("/")
        for p in path.read_text().splitlines()
        if p.strip() and not p.startswith("#")
    ]


def context_files() -> list[str]:
    """The build context: tracked files, less what .dockerignore leaves out."""
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, check=True, capture_output=True, text=True
    ).stdout.split("\0")
    patterns = ignored_patterns()

    def ignored(path: str) -> bool:
        parts = path.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        return any(
            fnmatch.fnmatch(prefix, pattern) or fnmatch.fnmatch(prefix, pattern.lstrip("*/"))
            for pattern in patterns
            for prefix in prefixes
        )

    return [p for p in tracked if p and not ignored(p) and (REPO / p).is_file()]


def copy_step(argument: str, files: list[str], root: Path, workdir: str) -> None:
    *sources, destination = shlex.split(argument)
    target = root / os.path.relpath(os.path.join(workdir, destination), workdir)
    for source in sources:
        source = source.rstrip("/")
        if source in (".", ""):
            chosen = files
        else:
            chosen = [f for f in files if f == source or f.startswith(source + "/")]
        if not chosen:
            sys.exit(f"COPY {source}: nothing in the build context")
        for name in chosen:
            if source in (".", ""):
                relative = name
            elif name == source:
                relative = Path(name).name if destination.endswith("/") else ""
            else:
                relative = os.path.relpath(name, source)
            path = target / relative if relative else target
            path.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, path)


def mapped(value: str, workdir: str, root: Path) -> str:
    """An ENV value with the image's WORKDIR replaced by the scratch directory."""
    return re.sub(rf"(?<![\w/]){re.escape(workdir)}(?=/|$|:)", str(root), value)


# Steps that only make sense as root inside an image (users, ownership, system packages).
ROOT_ONLY = {"useradd", "groupadd", "adduser", "chown", "apt-get", "apt", "apk"}


def needs_image_root(command: str) -> bool:
    return any(word in ROOT_ONLY for word in re.split(r"[\s;&|()]+", command))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fresh_database(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    if "replay" not in name:
        sys.exit(f"the database name must contain 'replay' (it is dropped first), not {name!r}")
    parts = urlsplit(url)
    admin = urlunsplit(parts._replace(path="/postgres"))
    for statement in (
        f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
        f'CREATE DATABASE "{name}"',
    ):
        subprocess.run(["psql", admin, "-q", "-c", statement], check=True)


def fetch(url: str, headers: dict[str, str]) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers)

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=15) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0, help="loopback port (default: a free one)")
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/replay_image")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/2")
    parser.add_argument("--broker-url", default="redis://127.0.0.1:6379/3")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    args = parser.parse_args()
    port = args.port or free_port()

    steps = instructions(REPO / "Dockerfile")
    files = context_files()
    scratch = Path(tempfile.mkdtemp(prefix="replay-image-"))
    root = scratch / "app"
    root.mkdir()
    venv = scratch / "venv"
    log(f"clean virtualenv {venv} ({sys.version.split()[0]})")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    base_env = {
        "PATH": f"{venv / 'bin'}:/usr/local/bin:/usr/bin:/bin",
        "HOME": os.environ.get("HOME", "/root"),
        "LANG": "C.UTF-8",
    }
    image_env: dict[str, str] = {}
    workdir = "/"
    processes: list[subprocess.Popen[bytes]] = []
    logs = scratch / "logs"
    logs.mkdir()
    try:
        for step in steps:
            if step.keyword == "FROM":
                log(f"FROM {step.argument} (replayed with Python {sys.version.split()[0]})")
            elif step.keyword == "WORKDIR":
                workdir = step.argument
            elif step.keyword == "ENV":
                for key, value in env_pairs(step.argument).items():
                    image_env[key] = mapped(value, workdir, root)
                log(f"ENV {' '.join(f'{k}={v}' for k, v in image_env.items())}")
            elif step.keyword == "COPY":
                copy_step(step.argument, files, root, workdir)
                log(f"COPY {step.argument}")
            elif step.keyword == "RUN":
                if needs_image_root(step.argument):
                    log(f"skipped (needs root in an image): RUN {step.argument[:70]}")
                    continue
                log(f"RUN {step.argument[:110]}")
                subprocess.run(
                    ["sh", "-c", step.argument], cwd=root, env={**base_env, **image_env}, check=True
                )
        command = next(json_list(s.argument) for s in reversed(steps) if s.keyword == "CMD")

        compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]
        runtime = {
            **base_env,
            **image_env,
            "DJANGO_ENV": "production",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "FIELD_ENCRYPTION_KEY": urlsafe_b64encode(secrets.token_bytes(32)).decode(),
            "ALLOWED_HOSTS": DOMAIN,
            "CSRF_TRUSTED_ORIGINS": f"https://{DOMAIN}",
            "PUBLIC_BASE_URL": f"https://{DOMAIN}",
            "USE_X_FORWARDED_PROTO": "1",
            "DATABASE_URL": args.database_url,
            "REDIS_URL": args.redis_url,
            "CELERY_BROKER_URL": args.broker_url,
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "WEB_CONCURRENCY": "2",
            "READINESS_HEARTBEAT_MAX_AGE": "120",
        }
        fresh_database(args.database_url)
        subprocess.run(
            ["redis-cli", "-u", args.redis_url, "flushdb"], check=True, capture_output=True
        )
        subprocess.run(
            ["redis-cli", "-u", args.broker_url, "flushdb"], check=True, capture_output=True
        )
        migrate = compose["migrate"]["command"]
        log(f"migrate: {' '.join(migrate)}")
        subprocess.run(migrate, cwd=root, env=runtime, check=True)

        for name, argv in (
            ("web", command),
            ("worker", compose["worker"]["command"]),
            ("beat", compose["beat"]["command"]),
        ):
            log(f"start {name}: {' '.join(argv)}")
            out = (logs / f"{name}.log").open("wb")
            processes.append(
                subprocess.Popen(
                    argv,
                    cwd=root,
                    env=runtime,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        base = f"http://127.0.0.1:{port}"
        proxied = {"Host": DOMAIN, "X-Forwarded-Proto": "https"}
        bare = {"Host": f"127.0.0.1:{port}"}
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if fetch(base + "/healthz", bare)[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        failures = []
        login_page = b""
        for path in PAGES:
            status, body = fetch(base + path, proxied)
            log(f"GET {path} (Host {DOMAIN}, via HTTPS proxy) → {status}")
            if status != 200:
                failures.append(f"{path}: {status}")
            if path == PAGES[0]:
                login_page = body
        match = re.search(rb'href="(/static/[^"]+\.css)"', login_page)
        if match is None:
            failures.append("the login page links no stylesheet")
        else:
            stylesheet = match.group(1).decode()
            status, _ = fetch(base + stylesheet, proxied)
            log(f"GET {stylesheet} → {status}")
            if status != 200:
                failures.append(f"{stylesheet}: {status}")
            if not re.search(r"\.[0-9a-f]{12}\.css$", stylesheet):
                failures.append(
                    f"{stylesheet} has no content hash: the manifest storage is not in use"
                )
        status, _ = fetch(base + "/accounts/login/", {"Host": DOMAIN})
        log(f"GET /accounts/login/ over plain HTTP → {status} (the HTTPS redirect is on)")
        if status != 301:
            failures.append(f"plain HTTP was not redirected to HTTPS ({status})")
        status, _ = fetch(base + "/healthz", bare)
        log(f"GET /healthz (Host 127.0.0.1, plain HTTP) → {status}")
        if status != 200:
            failures.append(f"/healthz: {status}")
        deadline = time.monotonic() + READY_TIMEOUT
        body = b""
        while time.monotonic() < deadline:
            status, body = fetch(base + "/readyz", bare)
            if status == 200:
                break
            time.sleep(2)
        log(f"GET /readyz (Host 127.0.0.1, plain HTTP) → {status} {body.decode()[:300]}")
        if status != 200:
            failures.append(f"/readyz: {status} {body.decode()[:300]}")
        if failures:
            for name in ("web", "worker", "beat"):
                print(f"--- {name}.log (last lines)")
                print(
                    "\n".join((logs / f"{name}.log").read_text(errors="replace").splitlines()[-40:])
                )
            sys.exit("the image does not serve: " + "; ".join(failures))
        log(
            "the image serves the staff login, the guest portal, the admin and its static files as production; /healthz and /readyz answer 200"
        )
    finally:
        for process in processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        if args.keep:
            log(f"kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)


def json_list(argument: str) -> list[str]:
    import json

    value = json.loads(argument)
    if not isinstance(value, list):
        sys.exit("CMD must be in exec form (a JSON list)")
    return [str(v) for v in value]


if __name__ == "__main__":
    main()
