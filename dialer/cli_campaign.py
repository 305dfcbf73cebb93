"""``dialer campaign ...``: create from a spec file, drive the lifecycle, list and show."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Column, Table

from dialer.cli_common import (
    WIDE_HELP,
    console,
    dialer_client,
    escape,
    fail,
    failure,
    id_column,
    plain,
    print_table,
    resolve,
    shown_id,
    time_column,
    when,
)

campaign_app = typer.Typer(no_args_is_help=True, help="Create, drive and inspect campaigns.")

STATUS_STYLE = {"running": "green", "paused": "yellow", "failed": "red", "stopped": "red",
                "completed": "cyan", "scheduled": "blue", "draft": "dim"}


def _spec_yaml_loader() -> type:
    """YAML 1.1 reads an unquoted ``9:00`` as the base-60 integer 540; a spec's times
    are clock times, so this loader resolves no sexagesimal numbers (``09:00`` never was)."""
    import re

    import yaml

    class SpecLoader(yaml.SafeLoader):
        pass

    int_tag, float_tag = "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"
    SpecLoader.yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag not in (int_tag, float_tag)]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
    SpecLoader.add_implicit_resolver(int_tag, re.compile(
        r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$"),
        list("-+0123456789"))
    SpecLoader.add_implicit_resolver(float_tag, re.compile(
        r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"), list("-+0123456789."))
    return SpecLoader


def read_spec_file(path: Path) -> dict[str, Any]:
    """A campaign spec from JSON or YAML (by extension; anything else is tried as YAML,
    which also reads JSON)."""
    import yaml

    if not path.is_file():
        fail(f"spec file: no such file: {path}")
    try:
        text = path.read_text(encoding="utf-8-sig")  # editors on Windows write a BOM
    except UnicodeDecodeError as exc:
        fail(f"spec file {path}: not UTF-8 text (byte {exc.start})")
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.load(
            text, Loader=_spec_yaml_loader())
    except json.JSONDecodeError as exc:
        fail(f"spec file {path}: invalid JSON at line {exc.lineno} column {exc.colno}: "
             f"{exc.msg}")
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        fail(f"spec file {path}: invalid YAML{where}: {getattr(exc, 'problem', exc)}")
    if not isinstance(data, dict):
        fail(f"spec file {path}: expected a mapping of spec fields at the top level")
    return data


@campaign_app.command("create")
def create(
    file: Annotated[Path, typer.Option("--file", "-f", help="Campaign spec, YAML or JSON.")],
    audience: Annotated[str | None, typer.Option(
        "--audience", metavar="NAME_OR_ID",
        help="The audience, by id or exact name (sets audience_id).")] = None,
    caller_ids: Annotated[list[str] | None, typer.Option(
        "--caller-id", metavar="NUMBER_OR_ID",
        help="A registered caller ID, by id or number; repeat for several "
             "(sets phone_number_ids).")] = None,
    start: bool = typer.Option(False, "--start", help="Start it at once."),
    quiet: bool = typer.Option(False, "--quiet", "-q",
                               help="Print only the new campaign's id (for scripts)."),
) -> None:
    """Create a campaign from a spec file (fields: docs/spec.md; a commented one:
    dialer campaign template); every bad field is named at once."""
    spec = read_spec_file(file)
    with dialer_client() as client:
        spec = _with_references(client, spec, audience, caller_ids or [])
        campaign = client.create_campaign(spec)
        # Said before starting: if the start is refused, the id is still needed.
        if not quiet:
            console.print(f"campaign {campaign.id} created: {campaign.status}")
        if start:
            campaign = client.start(campaign.id)
            if not quiet:
                console.print(f"campaign {campaign.id}: {campaign.status}")
        if quiet:
            console.print(campaign.id)


def _with_references(client: Any, spec: dict[str, Any], audience: str | None,
                     caller_ids: list[str]) -> dict[str, Any]:
    """``--audience``/``--caller-id`` resolved into the spec; when one cannot be, the
    spec's own errors are named in the same refusal (all at once, as everywhere)."""
    from dialer.errors import ValidationError
    from dialer.spec import parse_campaign_spec

    if audience is None and not caller_ids:
        return spec
    try:
        return client.resolve_references(spec, audience=audience, caller_ids=caller_ids)
    except ValidationError as exc:
        reference_errors = exc.errors
    replaced = (("audience_id",) if audience is not None else ()) + (
        ("phone_number_ids",) if caller_ids else ())
    shape_errors: list[tuple[str, str]] = []
    try:
        parse_campaign_spec(spec, now=client.now())
    except ValidationError as exc:
        shape_errors = [(f, m) for f, m in exc.errors if not f.startswith(replaced)]
    raise ValidationError(shape_errors + reference_errors)


@campaign_app.command("template")
def template_command() -> None:
    """Print a commented YAML spec with every field and its default (docs/spec.md):
    dialer campaign template > spec.yaml"""
    from dialer.spec_template import SPEC_TEMPLATE

    # Plain write: Rich would wrap long comment lines and read brackets as markup.
    typer.echo(SPEC_TEMPLATE, nl=False)


def _lifecycle(command: str, campaign_id: str) -> None:
    with dialer_client() as client:
        campaign = getattr(client, command)(resolve(client, "campaign", campaign_id))
    reason = f" ({campaign.pause_reason})" if campaign.pause_reason else ""
    console.print(f"campaign {campaign.id}: {campaign.status}{escape(reason)}")


@campaign_app.command("start")
def start_command(campaign_id: str) -> None:
    """draft/scheduled -> running."""
    _lifecycle("start", campaign_id)


@campaign_app.command("pause")
def pause_command(campaign_id: str) -> None:
    """running -> paused: nothing new is placed; calls in progress finish."""
    _lifecycle("pause", campaign_id)


@campaign_app.command("resume")
def resume_command(campaign_id: str) -> None:
    """paused -> running, where it left off."""
    _lifecycle("resume", campaign_id)


@campaign_app.command("stop")
def stop_command(campaign_id: str) -> None:
    """Any non-terminal status -> stopped; pending contacts are canceled."""
    _lifecycle("stop", campaign_id)


@campaign_app.command("reset-breaker")
def reset_breaker_command(campaign_id: str) -> None:
    """Close a tripped circuit breaker (the campaign stays paused until resumed)."""
    _lifecycle("reset_breaker", campaign_id)


# "-1" would otherwise be read as an unknown option: it reaches the service's
# own check, which names the field like every other bad value.
@campaign_app.command("channels", context_settings={"ignore_unknown_options": True})
def channels_command(campaign_id: str,
                     channels: int = typer.Argument(..., help="Concurrent calls.")) -> None:
    """Set the campaign's concurrent channels (capped by the organisation cap)."""
    with dialer_client() as client:
        campaign = client.allocate_channels(resolve(client, "campaign", campaign_id), channels)
        org = client.org
    capped = (f" (asked {channels}, capped by the channel cap {org.channel_cap} of "
              f"organisation {org.name})" if campaign.channels < channels else "")
    console.print(f"campaign {campaign.id}: {campaign.channels} channels{capped}")


@campaign_app.command("update")
def update_command(
    campaign_id: str,
    assignments: Annotated[list[str] | None, typer.Option(
        "--set", metavar="FIELD=VALUE",
        help="A spec field by dotted path and its new value, read as YAML "
             "(pacing.channels=5, schedule.allowed_days=[mon,tue]); repeat for several.")
    ] = None,
    cleared: Annotated[list[str] | None, typer.Option(
        "--unset", metavar="FIELD", help="Set an optional field to null; repeatable.")] = None,
    file: Annotated[Path | None, typer.Option(
        "--file", "-f", help="A patch (a partial spec), YAML or JSON; --set and --unset "
                             "apply on top of it.")] = None,
) -> None:
    """Change a campaign's spec; what may change depends on its status (docs/contract.md,
    "Editing a campaign"). Every refused or invalid field is named at once."""
    from dialer.editing import changed_fields

    patch: dict[str, Any] = read_spec_file(file) if file is not None else {}
    for assignment in assignments or []:
        field, sep, value = assignment.partition("=")
        if not sep or not field.strip():
            fail(f"--set {assignment!r}: expected FIELD=VALUE, e.g. pacing.channels=5")
        _put(patch, field.strip(), _yaml_value(assignment, value))
    for field in cleared or []:
        _put(patch, field.strip(), None)
    if not patch:
        fail("nothing to change: give --set FIELD=VALUE, --unset FIELD or --file PATCH")
    with dialer_client() as client:
        campaign_id = resolve(client, "campaign", campaign_id)
        before = client.get(campaign_id).campaign
        after = client.update_campaign(campaign_id, patch)
    changed = changed_fields(before.spec, after.spec)
    if after.status != before.status:
        changed.append(f"status {before.status} -> {after.status}")
    console.print(f"campaign {after.id}: " + (
        f"updated {escape(', '.join(changed))}" if changed else "nothing changed")
        + f" ({after.status})")


def _yaml_value(assignment: str, text: str) -> Any:
    import yaml

    try:
        return yaml.load(text, Loader=_spec_yaml_loader()) if text.strip() else ""
    except yaml.YAMLError as exc:
        fail(f"--set {assignment!r}: invalid value: {getattr(exc, 'problem', exc)}")


def _put(patch: dict[str, Any], field: str, value: Any) -> None:
    """``value`` at the dotted ``field`` of ``patch``, creating the objects on the way."""
    *parents, leaf = field.split(".")
    node = patch
    for part in parents:
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    node[leaf] = value


@campaign_app.command("delete")
def delete_command(campaign_id: str,
                   yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask.")) -> None:
    """Delete a campaign that is not running (its rows are kept for audit)."""
    from dialer.lifecycle import check_deletable

    with dialer_client() as client:
        campaign_id = resolve(client, "campaign", campaign_id)
        # Checked before asking: "yes" to a delete that is then refused wastes the
        # person's decision. The service checks again under its lock.
        campaign = client.get(campaign_id).campaign
        check_deletable(campaign.status)
        if not yes:
            typer.confirm(f"Delete campaign {campaign_id} ({campaign.name}, "
                          f"{campaign.status})?", abort=True)
        client.delete(campaign_id)
    console.print(f"campaign {campaign_id} deleted")


@campaign_app.command("list")
def list_command(
    status: str | None = typer.Option(None, help="Only campaigns in this status."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
    wide: bool = typer.Option(False, "--wide", help=WIDE_HELP),
) -> None:
    """Campaigns, newest first."""
    with dialer_client() as client:
        campaigns = client.list(status=status)
    if as_json:
        console.print_json(json.dumps([c.model_dump(mode="json", exclude={"spec"})
                                       for c in campaigns]))
        return
    table = Table(id_column(wide=wide), Column("name", min_width=10),
                  Column("status", no_wrap=True), "channels",
                  time_column("created", wide=wide))
    for c in campaigns:
        style = STATUS_STYLE.get(c.status, "")
        table.add_row(shown_id(c.id, wide=wide), plain(c.name),
                      f"[{style}]{c.status}[/]" if style else c.status,
                      str(c.channels), when(c.created_at, wide=wide))
    print_table(table, wide=wide)


@campaign_app.command("show")
def show_command(
    campaign_id: str,
    events: int = typer.Option(10, min=0, help="How many recent events to show."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Metrics, executions and recent events of one campaign."""
    with dialer_client() as client:
        campaign_id = resolve(client, "campaign", campaign_id)
        detail = client.get(campaign_id)
        recent = client.events(campaign_id)[-events:] if events else []
    if as_json:
        payload = detail.model_dump(mode="json")
        payload["events"] = [e.model_dump(mode="json") for e in recent]
        console.print_json(json.dumps(payload))
        return
    c, m = detail.campaign, detail.metrics
    reason = f" ({c.pause_reason})" if c.pause_reason else ""
    console.print(f"[bold]{escape(c.name)}[/bold]  {c.id}\nstatus {c.status}{escape(reason)} · "
                  f"{c.channels} channels · agent {escape(c.agent_id or '-')} · tz {c.timezone}")
    if (failed := failure(c)) is not None:
        console.print(failed)
    table = Table("metric", "value", title="metrics")
    for name in ("total_participants", "contacts_called", "contacts_connected",
                 "calls_placed", "in_progress", "channels_in_use"):
        table.add_row(name, str(m[name]))
    for outcome, count in sorted(m.outcomes.items()):
        table.add_row(f"outcome {outcome}", str(count))
    for status, count in sorted(m.by_status.items()):
        table.add_row(f"status {status}", str(count))
    console.print(table)
    runs = Table("#", "status", time_column("started"), time_column("ended"), "members",
                 "processed", "failed", title="executions")
    for x in c.executions:
        runs.add_row(str(x.execution_number), x.status, when(x.started_at), when(x.ended_at),
                     str(x.total_members), str(x.processed_members), str(x.failed_members))
    console.print(runs)
    log = Table(time_column("at"), "source", "action", "detail", title="recent events")
    for e in recent:
        log.add_row(when(e.at), e.source, e.action, plain(e.detail))
    console.print(log)
