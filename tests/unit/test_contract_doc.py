"""docs/contract.md and docs/spec.md are written from the code: these fail when they drift.

Each test reads the code's own list (the Settings fields, the client's methods,
the task names, the enums, the metric families, the command tree, the error
classes, the spec's fields and bounds) and asks the page to name every item.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from dialer import errors, statuses, views
from dialer.client import DialerClient
from dialer.settings import Settings
from dialer.spec import CampaignSpec
from dialer.task_args import COMMAND_ARGS, PARSERS

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = (ROOT / "docs" / "contract.md").read_text()
SPEC_DOC = (ROOT / "docs" / "spec.md").read_text()


def _row(text: str, key: str) -> str:
    """The table row (line) that starts by naming ``key`` in backticks."""
    for line in text.splitlines():
        if line.startswith(f"| `{key}`") or line.startswith(f"| `{key}`,"):
            return line
    raise AssertionError(f"no table row for `{key}`")


def _shown(value: Any) -> list[str]:
    """The ways a default or a bound may be written on the page."""
    if isinstance(value, bool):
        return [f"`{str(value).lower()}`"]
    if value is None:
        return ["`null`", "unset", "(off)", "no limit"]
    if isinstance(value, int | float):
        whole = int(value) if float(value).is_integer() else None
        forms = [f"`{value}`", str(value)]
        if whole is not None:
            forms += [f"`{whole}`", str(whole), f"{whole:,}", f"`{whole:,}`"]
        return forms
    return [f"`{value}`", f'`"{value}"`']


# -- settings -------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(Settings.model_fields))
def test_every_setting_is_in_the_table_with_its_default_and_bound(name: str) -> None:
    field = Settings.model_fields[name]
    row = _row(CONTRACT, f"DIALER_{name.upper()}")
    default = field.get_default(call_default_factory=True)
    if isinstance(default, bool | int | float):
        assert any(form in row for form in _shown(default)), (row, default)
    for meta in field.metadata:
        for attr, symbol in (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<")):
            bound = getattr(meta, attr, None)
            if bound is not None:
                assert any(f"{symbol} {form}" in row for form in _shown(bound)), (row, attr)


# -- the client -----------------------------------------------------------------------


def _public_methods() -> Iterator[str]:
    for name, member in inspect.getmembers(DialerClient):
        if not name.startswith("_") and inspect.isfunction(member):
            yield name


@pytest.mark.parametrize("method", list(_public_methods()))
def test_every_client_method_is_listed(method: str) -> None:
    assert f"`{method}(" in CONTRACT


def _view_models() -> Iterator[type[views.View]]:
    for _, member in inspect.getmembers(views, inspect.isclass):
        if issubclass(member, views.View) and member is not views.View:
            yield member


@pytest.mark.parametrize("model", list(_view_models()), ids=lambda model: model.__name__)
def test_every_returned_field_is_named(model: type[views.View]) -> None:
    missing = [field for field in model.model_fields
               if not re.search(rf"\b{field}\b", CONTRACT)]
    assert not missing, f"{model.__name__}: {missing}"


# -- tasks, statuses, events, metrics, errors ---------------------------------------------


def _task_names() -> set[str]:
    source = (ROOT / "workers" / "tasks.py").read_text()
    return set(re.findall(r'name="(dialer\.[a-z_]+)"', source))


def test_every_task_and_command_is_in_the_tasks_table() -> None:
    names = _task_names()
    assert names >= set(PARSERS) and "dialer.enqueue_campaign" in names
    for name in names:
        _row(CONTRACT, name)
    commands_row = _row(CONTRACT, "dialer.campaign_command")
    for command, keywords in COMMAND_ARGS.items():
        assert f"`{command}`" in commands_row
        for keyword in keywords:
            assert f"`{keyword}`" in commands_row


@pytest.mark.parametrize("vocabulary", [statuses.CampaignStatus, statuses.ParticipantStatus,
                                        statuses.CallStatus, statuses.Outcome,
                                        statuses.EventSource], ids=lambda enum: enum.__name__)
def test_every_status_word_is_listed(vocabulary: type[statuses.StrEnum]) -> None:
    assert vocabulary.__name__ in CONTRACT
    for member in vocabulary:
        assert f"`{member.value}`" in CONTRACT, member


def _sources() -> Iterator[Path]:
    yield from (ROOT / "dialer").rglob("*.py")


def test_every_event_action_is_listed() -> None:
    actions = {action for path in _sources()
               for action in re.findall(r'action="([a-z_]+)"', path.read_text())}
    assert actions, "no event actions found: has record_event changed its keyword?"
    for action in actions:
        assert f"`{action}`" in CONTRACT, action


def test_every_prometheus_metric_is_in_the_table() -> None:
    source = (ROOT / "dialer" / "service" / "metrics_export.py").read_text()
    names = set(re.findall(r'"(dialer_[a-z_]+)"', source))
    assert len(names) >= 10
    for name in names:
        # Prometheus adds _total to a counter family's samples.
        assert f"| `{name}`" in CONTRACT or f"| `{name}_total`" in CONTRACT, name


def test_every_error_class_is_in_the_table() -> None:
    classes = [member for _, member in inspect.getmembers(errors, inspect.isclass)
               if issubclass(member, Exception) and member.__module__ == errors.__name__]
    assert len(classes) >= 6
    for error in classes:
        _row(CONTRACT, error.__name__)


# -- the command line -----------------------------------------------------------------------


def _commands() -> Iterator[tuple[list[str], Any]]:
    import typer

    from dialer.cli import app

    def walk(command: Any, path: list[str]) -> Iterator[tuple[list[str], Any]]:
        if hasattr(command, "commands"):
            for name, sub in command.commands.items():
                yield from walk(sub, [*path, name])
        else:
            yield path, command

    yield from walk(typer.main.get_command(app), [])


@pytest.mark.parametrize(("path", "command"), list(_commands()),
                         ids=lambda value: " ".join(value) if isinstance(value, list) else "")
def test_every_command_and_option_is_listed(path: list[str], command: Any) -> None:
    pattern = r"\bdialer\b.*" + r".*".join(rf"\b{re.escape(word)}\b" for word in path)
    # The first cell of a row of the commands table names the command and its options.
    lines = [line.split(" | ")[0] for line in CONTRACT.splitlines()
             if line.startswith("| `dialer") and re.search(pattern, line.split(" | ")[0])]
    assert lines, f"dialer {' '.join(path)}"
    for param in command.params:
        if param.param_type_name == "option" and "--help" not in param.opts:
            assert any(opt in lines[0] for opt in param.opts), (path, param.opts)


# -- the campaign spec (docs/spec.md) ----------------------------------------------------------


def _spec_fields(model: type[BaseModel], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield from _spec_fields(annotation, f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}", field


def _spec_row(path: str) -> str:
    parent, _, leaf = path.rpartition(".")
    for line in SPEC_DOC.splitlines():
        if not line.startswith("| `"):
            continue
        if f"`{path}`" in line or (parent and f"`{parent}.{leaf}`" in line) or (
                parent and line.startswith(f"| `{parent}.") and f"`.{leaf}`" in line):
            return line
    raise AssertionError(f"docs/spec.md has no row for `{path}`")


@pytest.mark.parametrize(("path", "field"), list(_spec_fields(CampaignSpec)),
                         ids=lambda value: value if isinstance(value, str) else "")
def test_every_spec_field_is_in_docs_spec_with_its_bounds(path: str, field: Any) -> None:
    row = _spec_row(path)
    for meta in field.metadata:
        for attr in ("ge", "gt", "le", "lt", "max_length", "min_length"):
            bound = getattr(meta, attr, None)
            if bound is None or (attr == "gt" and bound == 0):
                continue
            written = [form.strip("`") for form in _shown(abs(bound))]
            assert any(form in row for form in written), (row, attr, bound)
    # A field the model leaves optional but creation requires (audience_id) says so.
    if not field.is_required() and "(required" not in row:
        default = field.get_default(call_default_factory=True)
        if isinstance(default, bool | int | float | str) or default is None:
            assert any(form in row for form in _shown(default)), (row, default)
