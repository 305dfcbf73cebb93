"""docker-compose.yml and the Dockerfile, checked without a Docker engine.

The files are parsed and held against the code they start: every DIALER_*
variable must be a real setting with a value it accepts, every ``dialer``
command must parse in the Typer app, every ``celery`` command must name the
Celery app and a sub-command that exists.
"""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from importlib import import_module
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import typer
import yaml

from dialer.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
WORKERS = ("worker-dial", "worker-control")
DIALER_SERVICES = ("migrate", *WORKERS, "beat", "flower", "metrics", "api")
DOCKERFILE = (ROOT / "Dockerfile").read_text()
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
# Compose interpolation: ${NAME:-default} or ${NAME-default}; ${NAME:?message} is a
# secret the operator must set (compose refuses to start without it); a bare
# ${NAME} has neither.
VARIABLE = re.compile(r"\$\{(?P<name>\w+)(?:(?P<kind>:?[-?])(?P<default>[^}]*))?\}")
# What the checks below use for a required secret.
SECRET = "s3cret-from-dot-env"


def interpolate(value: str) -> str:
    def default(match: re.Match[str]) -> str:
        assert match.group("default") is not None, f"{match.group(0)} needs a default"
        if match.group("kind").endswith("?"):
            return SECRET
        return match.group("default")

    return VARIABLE.sub(default, value)


def required_secrets() -> set[str]:
    """Variables the compose file refuses to start without (``${NAME:?...}``)."""
    text = (ROOT / "docker-compose.yml").read_text()
    return {m.group("name") for m in VARIABLE.finditer(text) if m.group("kind") == ":?"}


def command(service: str) -> list[str]:
    raw = SERVICES[service]["command"]
    return shlex.split(raw) if isinstance(raw, str) else list(raw)


def depends(service: str) -> dict[str, str]:
    return {name: spec["condition"] for name, spec in SERVICES[service]["depends_on"].items()}


def resolve_dialer(argv: list[str]) -> Any:
    """Parse a ``dialer ...`` command line in the real Typer app, without running it.

    Returns the click context (Typer vendors its own click: groups are told
    apart by their ``commands``).
    """
    from dialer.cli import app

    assert argv[0] == "dialer"
    node = typer.main.get_command(app)
    args = argv[1:]
    while hasattr(node, "commands") and args and args[0] in node.commands:
        node, args = node.commands[args[0]], args[1:]
    assert not hasattr(node, "commands"), f"{argv} names a group, not a command"
    return node.make_context(" ".join(argv), list(args))


def check_celery(argv: list[str]) -> None:
    assert argv[:3] == ["celery", "-A", "workers.app"], argv
    assert argv[3] in {"worker", "beat", "flower"}, argv
    if argv[3] == "flower":
        assert "flower" in {e.name for e in entry_points(group="celery.commands")}
    assert import_module("workers.app").app.main == "dialer"


def test_the_services_are_all_there() -> None:
    assert set(SERVICES) == {"postgres", "redis", "migrate", *WORKERS, "beat", "flower",
                             "metrics", "api"}


def test_postgres_and_redis_have_health_checks() -> None:
    assert "pg_isready" in " ".join(SERVICES["postgres"]["healthcheck"]["test"])
    kind, line = SERVICES["redis"]["healthcheck"]["test"]
    # As the dialer's user, with its password (REDISCLI_AUTH); redis-cli exits 0
    # on NOAUTH, so the check must look for the PONG itself.
    assert kind == "CMD-SHELL" and line == "redis-cli --user dialer ping | grep -q PONG"
    assert interpolate(SERVICES["redis"]["environment"]["REDISCLI_AUTH"]) == SECRET


def test_redis_never_evicts_and_keeps_an_append_only_file() -> None:
    argv = command("redis")
    assert argv[argv.index("--maxmemory-policy") + 1] == "noeviction"
    assert argv[argv.index("--appendonly") + 1] == "yes"


def test_migrate_is_a_one_shot_upgrade_after_postgres_is_healthy() -> None:
    assert command("migrate") == ["dialer", "db", "upgrade"]
    resolve_dialer(command("migrate"))
    assert SERVICES["migrate"]["restart"] == "no"
    assert depends("migrate") == {"postgres": "service_healthy"}


@pytest.mark.parametrize("service", [*WORKERS, "beat", "metrics", "api"])
def test_long_running_services_wait_for_the_migration(service: str) -> None:
    assert depends(service)["migrate"] == "service_completed_successfully"
    assert depends(service)["redis"] == "service_healthy"


def queues(service: str) -> set[str]:
    argv = command(service)
    return set(argv[argv.index("-Q") + 1].split(","))


@pytest.mark.parametrize("service", WORKERS)
def test_workers_scale_and_keep_a_health_check_and_a_grace_period(service: str) -> None:
    worker = SERVICES[service]
    assert "container_name" not in worker and "ports" not in worker
    argv = command(service)
    check_celery(argv)
    assert argv[3] == "worker"
    # The health check pings celery@$HOSTNAME: a -n would rename the node.
    assert "-n" not in argv and not any(arg.startswith("--hostname") for arg in argv)
    assert "celery@$$HOSTNAME" in " ".join(worker["healthcheck"]["test"])
    assert worker["stop_grace_period"] == "30s"
    assert worker["environment"] == SERVICES["migrate"]["environment"]


def test_the_recommended_layout_dials_apart_and_every_queue_is_consumed() -> None:
    # docs/deployment.md, "Hung providers, time limits and the worker layout":
    # dials on workers of their own, so a hung provider never holds back a
    # tick, a command or a result.
    from workers.app import app

    assert queues("worker-dial") == {"dialer.dial"}
    assert queues("worker-control") == {"dialer.control", "dialer.results", "celery"}
    declared = {queue.name for queue in app.conf.task_queues}
    routed = {route["queue"] for route in app.conf.task_routes.values()}
    # A queue nobody consumes just fills up.
    assert queues("worker-dial") | queues("worker-control") == declared >= routed


def test_exactly_one_beat() -> None:
    beat = SERVICES["beat"]
    check_celery(command("beat"))
    assert command("beat")[3] == "beat"
    assert beat.get("deploy", {}).get("replicas", 1) == 1
    assert beat.get("scale", 1) == 1


def redis_acl() -> dict[str, list[str]]:
    """The ``--user NAME RULES...`` arguments of the redis command, by user."""
    argv = [interpolate(arg) for arg in command("redis")]
    users: dict[str, list[str]] = {}
    for index, arg in enumerate(argv):
        if arg == "--user":
            rules = []
            for rule in argv[index + 2:]:
                if rule.startswith("--"):
                    break
                rules.append(rule)
            users[argv[index + 1]] = rules
    return users


def test_redis_has_no_open_door() -> None:
    users = redis_acl()
    # The passwordless default user is switched off; the dialer's user has the
    # password from .env and no admin commands (CONFIG, ACL, SHUTDOWN...).
    assert users["default"] == ["off"]
    assert set(users) == {"default", "dialer"}
    assert users["dialer"][:2] == ["on", f">{SECRET}"]
    assert users["dialer"][-1] == "-@admin"
    assert {"REDIS_PASSWORD", "FLOWER_PASSWORD"} <= required_secrets()


def test_only_flower_the_exporter_and_the_api_publish_ports_and_on_localhost_only() -> None:
    published = {name: service["ports"] for name, service in SERVICES.items()
                 if "ports" in service}
    assert set(published) == {"flower", "metrics", "api"}
    for ports in published.values():
        assert all(str(p).startswith("127.0.0.1:") for p in ports), ports
    for name in ("redis", "postgres"):
        assert "ports" not in SERVICES[name] and "network_mode" not in SERVICES[name]


def test_every_redis_url_logs_in_as_the_dialer_user() -> None:
    for name in DIALER_SERVICES:
        env = SERVICES[name]["environment"]
        for key in ("DIALER_REDIS_URL", "DIALER_BROKER_URL"):
            url = urlsplit(interpolate(env[key]))
            assert (url.username, url.password) == ("dialer", SECRET), (name, key)


def test_flower_asks_for_a_password() -> None:
    env = SERVICES["flower"]["environment"]
    user, _, password = interpolate(env["FLOWER_BASIC_AUTH"]).partition(":")
    assert user and password == SECRET
    # Flower still gets every dialer setting next to its own.
    assert {k for k in SERVICES["worker-control"]["environment"]} <= set(env)
    # "--port 5555" would crash Flower ("Option 'port' requires a value").
    assert "--port=5555" in command("flower")


def test_flower_and_the_exporter() -> None:
    check_celery(command("flower"))
    assert any(str(p).endswith("5555:5555") for p in SERVICES["flower"]["ports"])
    context = resolve_dialer(command("metrics"))
    assert context.command.name == "serve" and context.params["port"] == 9108
    assert any(str(p).endswith("9108:9108") for p in SERVICES["metrics"]["ports"])


def test_the_api_serves_the_app_on_its_published_port_with_a_health_check() -> None:
    context = resolve_dialer(command("api"))
    assert context.command.name == "serve"
    assert (context.params["host"], context.params["port"]) == ("0.0.0.0", 8000)
    assert SERVICES["api"]["ports"] == ["127.0.0.1:8000:8000"]
    assert "/healthz" in " ".join(SERVICES["api"]["healthcheck"]["test"])
    assert SERVICES["api"]["environment"] == SERVICES["migrate"]["environment"]


def test_every_dialer_variable_is_a_setting_with_a_valid_value() -> None:
    for name in DIALER_SERVICES:
        env = {key: interpolate(str(value))
               for key, value in SERVICES[name]["environment"].items()}
        dialer_vars = {k: v for k, v in env.items() if k.startswith("DIALER_")}
        fields = {k.removeprefix("DIALER_").lower(): v for k, v in dialer_vars.items()}
        unknown = set(fields) - set(Settings.model_fields)
        assert not unknown, f"{name}: not settings: {unknown}"
        settings = Settings(**fields)  # explicit values win over this process's environment
        assert urlsplit(settings.database_url).hostname == "postgres"
        assert urlsplit(settings.redis_url).hostname == "redis"
        assert urlsplit(str(settings.broker_url)).hostname == "redis"
        assert settings.log_json


def test_the_dockerfile_builds_a_non_root_image_running_a_worker() -> None:
    froms = re.findall(r"^FROM\s+(\S+)", DOCKERFILE, flags=re.M)
    assert froms and all(image == "python:3.11-slim" for image in froms)
    assert re.search(r"pip (install|wheel)\b.*\s\.$", DOCKERFILE, flags=re.M)
    users = re.findall(r"^USER\s+(\S+)", DOCKERFILE, flags=re.M)
    assert users and users[-1] not in {"root", "0"}
    [cmd] = re.findall(r"^CMD\s+(\[.*\])$", DOCKERFILE, flags=re.M)
    argv = json.loads(cmd)
    check_celery(argv)
    assert argv[3] == "worker"


def test_the_image_holds_everything_the_package_installs() -> None:
    copied = set(re.findall(r"^COPY\s+(?!--from)(.+?)\s+\S+$", DOCKERFILE, flags=re.M))
    sources = {part for line in copied for part in line.split()}
    setuptools = PYPROJECT["tool"]["setuptools"]
    packages = {p.rstrip("*") for p in setuptools["packages"]["find"]["include"]}
    wanted = (packages | {f"{m}.py" for m in setuptools["py-modules"]}
              | {"pyproject.toml", PYPROJECT["project"]["readme"]})
    assert wanted <= sources, wanted - sources
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}
    assert not (wanted & ignored)


def test_the_console_script_the_compose_file_runs_exists() -> None:
    module, _, attr = PYPROJECT["project"]["scripts"]["dialer"].partition(":")
    assert callable(getattr(import_module(module), attr))


def test_broker_and_coordination_live_in_different_redis_dbs() -> None:
    # Results queued in the broker must survive a flush of the coordination
    # data (docs/deployment.md): never the same db, and the broker's db persisted.
    from dialer.broker_layout import shares_redis_db

    for name in DIALER_SERVICES:
        env = {key: interpolate(str(value))
               for key, value in SERVICES[name]["environment"].items()}
        settings = Settings(**{k.removeprefix("DIALER_").lower(): v for k, v in env.items()
                               if k.startswith("DIALER_")})
        assert not shares_redis_db(str(settings.broker_url), settings.redis_url), name
    argv = command("redis")
    assert argv[argv.index("--appendonly") + 1] == "yes"
