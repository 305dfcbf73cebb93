"""The arguments of every Celery task, checked before anything is applied.

Any process on the broker can send our tasks by name with anything in them
(docs/remote-control.md). Two checks, both pure and both returning field
errors instead of raising anything else:

- ``envelope_errors``: the message itself — ``args`` a list, ``kwargs`` an
  object, a bounded task id, bounded size and nesting. The worker runs it in
  its main process, where any exception is fatal to the whole worker.
- ``parse_task_args``: each task's arguments, through a pydantic model with
  unknown keywords forbidden, strict types (the string ``"false"`` is not a
  boolean) and bounds. Positional arguments are bound in the documented order,
  as Python would, so ``args=[call_id, outcome]`` still works.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from itertools import islice
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from dialer.errors import ValidationError

if TYPE_CHECKING:
    from dialer.settings import Settings

# A Celery task id is a UUID (36 characters); room for a sender's own scheme,
# and it is stored as an idempotency key (String(255) columns).
MAX_TASK_ID_CHARS = 255
# The deepest legitimate argument is a contact's attributes inside a list of
# contacts; 32 levels is far beyond any of them and far below what the
# worker's pickling to its pool (and Python's recursion limit) can take.
MAX_NESTING = 32
MAX_ID_CHARS = 100
MAX_DETAIL_CHARS = 2000
# A call that lasted more than a day is a unit mistake (milliseconds?), not a call.
MAX_DURATION_S = 86_400.0
MAX_CHANNELS = 100_000
# An error names the offending keyword; a sender's 10 kB keyword is cut.
MAX_FIELD_NAME_CHARS = 100


@dataclass(frozen=True)
class RemoteLimits:
    """Payload limits (settings ``DIALER_REMOTE_MAX_*``)."""

    max_contacts: int
    max_message_bytes: int
    max_nesting: int = MAX_NESTING

    @classmethod
    def of(cls, settings: Settings) -> RemoteLimits:
        return cls(max_contacts=settings.remote_max_contacts,
                   max_message_bytes=settings.remote_max_message_bytes)


def _no_nul(value: str) -> str:
    # PostgreSQL text cannot hold NUL: the insert would fail after other writes.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


Id = Annotated[str, Field(min_length=1, max_length=MAX_ID_CHARS), AfterValidator(_no_nul)]
Detail = Annotated[str, Field(max_length=MAX_DETAIL_CHARS), AfterValidator(_no_nul)]
# An organisation's name (service/orgs.py checks its shape when one is created).
OrgName = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_no_nul)]

# What a provider may report with a result (docs/contract.md §5): links to the call's
# recording and transcript, and its cost, stored as NUMERIC(14, 6).
MAX_URL_CHARS = 2000
MAX_COST = Decimal("99999999.999999")
COST_PLACES = Decimal("0.000001")


def _web_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("must be an http(s) URL")
    if any(c.isspace() or c == "\x00" for c in value):
        raise ValueError("must not contain spaces or NUL characters")
    return value


def _decimal(value: Any) -> Any:
    """A cost sent as a JSON number or a decimal string (exact), rounded to 6 places."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise ValueError("must be a non-negative decimal number")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError("must be a non-negative decimal number") from None
    if not number.is_finite():
        raise ValueError("must be a non-negative decimal number")
    try:
        return number.quantize(COST_PLACES)
    except InvalidOperation:  # too many digits to round: the bound below refuses it
        return number


WebUrl = Annotated[str, Field(min_length=1, max_length=MAX_URL_CHARS),
                   AfterValidator(_web_url)]
Cost = Annotated[Decimal, BeforeValidator(_decimal), Field(ge=0, le=MAX_COST)]


class _Args(BaseModel):
    # strict: no "false" -> False, "12" -> 12 or 1 -> True coercion; forbid: typos are errors.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    def call_kwargs(self) -> dict[str, Any]:
        """The keyword arguments the task function takes (shallow: no copy of contacts)."""
        return dict(self)


class CallResultArgs(_Args):
    call_id: Id
    outcome: Literal["answered", "no_answer", "busy", "voicemail", "failed"]
    duration_s: Annotated[float, Field(ge=0, le=MAX_DURATION_S, allow_inf_nan=False)] = 0.0
    goal_achieved: bool | None = None
    detail: Detail | None = None
    # None: whichever organisation placed the call; given, a call of another is ignored.
    org: OrgName | None = None
    # Optional extras (issue 14): senders that do not know them still work.
    recording_url: WebUrl | None = None
    transcript_url: WebUrl | None = None
    cost: Cost | None = None


class DialArgs(_Args):
    call_id: Id


class NoArgs(_Args):
    pass


class EnqueueCampaignArgs(_Args):
    # The spec itself is validated by CampaignSpec when the campaign is created.
    spec: dict[str, Any]
    contacts: list[Any] | None = None
    start: bool = False
    org: OrgName = "default"


class CampaignCommandArgs(_Args):
    campaign_id: Id
    command: str
    args: dict[str, Any] = Field(default_factory=dict)
    org: OrgName = "default"

    def call_kwargs(self) -> dict[str, Any]:
        return {"campaign_id": self.campaign_id, "command": self.command, "org": self.org,
                **self.args}


# Which keyword arguments each command takes (``n`` is the old name of ``channels``).
COMMAND_ARGS: dict[str, tuple[str, ...]] = {
    "start": (), "pause": (), "resume": (), "stop": (),
    "allocate_channels": ("channels", "n"), "reset_breaker": (), "delete": (),
    "update": ("patch",),
    # Leads (docs/contract.md "Leads while campaigns live"): the service checks the ids
    # and the contacts themselves, naming each bad one.
    "requeue": ("contact_ids",), "close": ("contact_ids",), "add_contacts": ("contacts",),
    "remove_contacts": ("contact_ids",),
}


def field_name(key: Any) -> str:
    text = str(key)
    return text if len(text) <= MAX_FIELD_NAME_CHARS else text[:MAX_FIELD_NAME_CHARS] + "..."


# -- the envelope ---------------------------------------------------------------

def nesting_exceeds(value: Any, limit: int) -> bool:
    """Whether ``value`` nests lists/objects deeper than ``limit``.

    Iterative, level by level: one isinstance per node, so the million
    contacts of an oversized request cost a fraction of a second, and no
    depth can exhaust the stack.
    """
    level = [value]
    for depth in range(limit + 2):
        containers = [item for item in level if isinstance(item, dict | list | tuple)]
        if not containers:
            return False
        if depth > limit:
            return True
        level = []
        for container in containers:
            level.extend(container.values() if isinstance(container, dict) else container)
    return True


def envelope_errors(task_id: Any, args: Any, kwargs: Any, *, body_bytes: int,
                    limits: RemoteLimits, task: str | None = None) -> list[tuple[str, str]]:
    """What is wrong with a task message as such (and the contacts limit, cheaply)."""
    errors: list[tuple[str, str]] = []
    if task == "dialer.enqueue_campaign":
        # Here too, so that a million contacts are not even handed to the pool.
        errors += _contacts_errors(args, kwargs, limits)
    if body_bytes > limits.max_message_bytes:
        errors.append(("message", f"{body_bytes} bytes, over the limit of "
                                  f"{limits.max_message_bytes} (DIALER_REMOTE_MAX_MESSAGE_BYTES)"))
    if not isinstance(task_id, str) or not task_id:
        errors.append(("id", "the task id must be a non-empty string"))
    elif len(task_id) > MAX_TASK_ID_CHARS:
        errors.append(("id", f"the task id has {len(task_id)} characters; "
                             f"at most {MAX_TASK_ID_CHARS}"))
    too_deep = f"nested deeper than {limits.max_nesting} levels"
    if not isinstance(args, list | tuple):
        errors.append(("args", f"must be a list of positional arguments, not "
                               f"{type(args).__name__}"))
    else:
        errors.extend((f"args[{index}]", too_deep) for index, value in enumerate(args)
                      if nesting_exceeds(value, limits.max_nesting - 1))
    if not isinstance(kwargs, dict):
        errors.append(("kwargs", f"must be an object of keyword arguments, not "
                                 f"{type(kwargs).__name__}"))
    else:
        errors.extend((field_name(key), too_deep) for key, value in kwargs.items()
                      if nesting_exceeds(value, limits.max_nesting - 1))
    return errors


def unpack_body(payload: Any) -> tuple[Any, Any, Any] | None:
    """Celery protocol 2's body ``[args, kwargs, embed]``, or None when it is not that."""
    if isinstance(payload, list | tuple) and len(payload) == 3:
        args, kwargs, embed = payload
        return args, kwargs, embed if isinstance(embed, dict) else {}
    return None


# -- each task's arguments --------------------------------------------------------

def _bind(names: tuple[str, ...], args: Any, kwargs: Any
          ) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Positional and keyword arguments as one mapping, as a Python call binds them."""
    errors: list[tuple[str, str]] = []
    args = list(args) if isinstance(args, list | tuple) else [args]
    kwargs = kwargs if isinstance(kwargs, dict) else {}
    if len(args) > len(names):
        errors.append(("args", f"takes at most {len(names)} positional argument(s) "
                               f"({', '.join(names) or 'none'}), got {len(args)}"))
    values = dict(zip(names, args, strict=False))
    for key, value in kwargs.items():
        if key in values:
            errors.append((field_name(key), "given both by position and by keyword"))
        else:
            values[key] = value
    return values, errors


def _message(error: Any) -> str:
    if error["type"] == "extra_forbidden":
        return "unexpected argument"
    if error["type"] == "missing":
        return "required"
    return str(error["msg"])


M = TypeVar("M", bound=BaseModel)


def _validate(model: type[M], values: dict[str, Any], errors: list[tuple[str, str]]) -> M:
    try:
        parsed = model.model_validate(values)
    except PydanticValidationError as exc:
        errors = errors + [(".".join(field_name(p) for p in e["loc"]) or "request", _message(e))
                           for e in exc.errors(include_url=False)]
        raise ValidationError(errors) from None
    if errors:
        raise ValidationError(errors)
    return parsed


def parse_call_result(args: Any, kwargs: Any) -> CallResultArgs:
    values, errors = _bind(("call_id", "outcome", "duration_s", "goal_achieved", "detail",
                            "org", "recording_url", "transcript_url", "cost"), args, kwargs)
    return _validate(CallResultArgs, values, errors)


def parse_dial(args: Any, kwargs: Any) -> DialArgs:
    values, errors = _bind(("call_id",), args, kwargs)
    return _validate(DialArgs, values, errors)


def parse_no_args(args: Any, kwargs: Any) -> NoArgs:
    values, errors = _bind((), args, kwargs)
    return _validate(NoArgs, values, errors)


def parse_enqueue_campaign(args: Any, kwargs: Any, *, limits: RemoteLimits
                           ) -> EnqueueCampaignArgs:
    values, errors = _bind(("spec", "contacts", "start", "org"), args, kwargs)
    too_many = _contacts_errors([], values, limits)
    if too_many:
        # Checked before pydantic copies a million items; the request stops here.
        raise ValidationError(errors + too_many)
    return _validate(EnqueueCampaignArgs, values, errors)


def _contacts_errors(args: Any, kwargs: Any, limits: RemoteLimits) -> list[tuple[str, str]]:
    contacts = kwargs.get("contacts") if isinstance(kwargs, dict) else None
    if contacts is None and isinstance(args, list | tuple) and len(args) > 1:
        contacts = args[1]
    if isinstance(contacts, list) and len(contacts) > limits.max_contacts:
        return [("contacts", f"at most {limits.max_contacts} contacts per request "
                             f"(DIALER_REMOTE_MAX_CONTACTS), got {len(contacts)}; import a larger "
                             f"list as an audience and pass spec.audience_id")]
    return []


def parse_campaign_command(args: Any, kwargs: Any, *, limits: RemoteLimits | None = None
                           ) -> CampaignCommandArgs:
    values, errors = _bind(("campaign_id", "command"), args, kwargs)
    base: dict[str, Any] = {key: values.pop(key) for key in ("campaign_id", "command", "org")
                            if key in values}
    command = base.get("command")
    command_args: dict[str, Any] = {}
    if isinstance(command, str) and command in COMMAND_ARGS:
        allowed = COMMAND_ARGS[command]
        for key, value in values.items():
            if key in allowed:
                command_args["channels" if key == "n" else key] = value
            else:
                errors.append((field_name(key), "unexpected argument"))
        if command == "allocate_channels":
            errors += _channels_errors(command_args)
        if command == "update":
            errors += _patch_errors(command_args)
        errors += _lead_errors(command, command_args, limits)
    elif "command" in base:
        errors.append(("command", f"unknown command {field_name(command)!r}; one of "
                                  f"{', '.join(COMMAND_ARGS)}"))
        base["command"] = ""
    return _validate(CampaignCommandArgs, {**base, "args": command_args}, errors)


def _lead_errors(command: str, command_args: dict[str, Any], limits: RemoteLimits | None
                 ) -> list[tuple[str, str]]:
    key = {"requeue": "contact_ids", "close": "contact_ids", "add_contacts": "contacts",
           "remove_contacts": "contact_ids"}.get(command)
    if key is None:
        return []
    value = command_args.get(key)
    if not isinstance(value, list) or not value:
        return [(key, "required: a non-empty list")]
    if key == "contacts" and limits is not None and len(value) > limits.max_contacts:
        return [(key, f"at most {limits.max_contacts} contacts per request "
                      f"(DIALER_REMOTE_MAX_CONTACTS), got {len(value)}")]
    return []


def _channels_errors(command_args: dict[str, Any]) -> list[tuple[str, str]]:
    if "channels" not in command_args:
        return [("channels", "required")]
    channels = command_args["channels"]
    if isinstance(channels, bool) or not isinstance(channels, int) \
            or not 0 <= channels <= MAX_CHANNELS:
        return [("channels", f"must be an integer from 0 to {MAX_CHANNELS}")]
    return []


def _patch_errors(command_args: dict[str, Any]) -> list[tuple[str, str]]:
    # Its fields are the spec's, checked by the update itself (all at once, by path).
    if "patch" not in command_args:
        return [("patch", "required")]
    if not isinstance(command_args["patch"], dict):
        return [("patch", "must be an object of spec fields")]
    return []


def parse_task_args(task: str, args: Any, kwargs: Any, *, limits: RemoteLimits) -> _Args:
    """The validated arguments of ``task`` (any of ours); ValidationError otherwise."""
    if task == "dialer.enqueue_campaign":
        return parse_enqueue_campaign(args, kwargs, limits=limits)
    if task == "dialer.campaign_command":
        return parse_campaign_command(args, kwargs, limits=limits)
    parser = PARSERS.get(task)
    if parser is None:
        raise ValidationError([("task", f"no argument rules for {task}")])
    return parser(args, kwargs)


PARSERS: dict[str, Callable[[Any, Any], _Args]] = {
    "dialer.call_result": parse_call_result,
    "dialer.dial": parse_dial,
    "dialer.tick": parse_no_args,
    "dialer.sweep": parse_no_args,
    "dialer.campaign_command": parse_campaign_command,
}


# -- what a refusal records ----------------------------------------------------------

SUMMARY_MAX_DEPTH = 8
SUMMARY_MAX_ITEMS = 100
SUMMARY_MAX_CHARS = 500


def summarize(value: Any, depth: int = 0) -> Any:
    """A bounded, JSON-able copy for ``rejected_requests.payload``: contact lists counted."""
    if isinstance(value, list | tuple) and any(
            isinstance(item, dict) and "phone" in item for item in value):
        return f"<{len(value)} contacts>"
    if isinstance(value, str):
        return value if len(value) <= SUMMARY_MAX_CHARS else (
            f"{value[:SUMMARY_MAX_CHARS]}... <{len(value)} characters>")
    if value is None or isinstance(value, bool | float):
        return value
    if isinstance(value, int):
        return value if abs(value) < 10**18 else f"<{value.bit_length()}-bit integer>"
    if not isinstance(value, dict | list | tuple):
        return f"<{type(value).__name__}>"
    if depth >= SUMMARY_MAX_DEPTH:
        return "..."
    if isinstance(value, dict):
        shown = {field_name(key): summarize(item, depth + 1)
                 for key, item in islice(value.items(), SUMMARY_MAX_ITEMS)}
        if len(value) > SUMMARY_MAX_ITEMS:
            shown["..."] = f"<{len(value) - SUMMARY_MAX_ITEMS} more>"
        return shown
    items = [summarize(item, depth + 1) for item in value[:SUMMARY_MAX_ITEMS]]
    if len(value) > SUMMARY_MAX_ITEMS:
        items.append(f"<{len(value) - SUMMARY_MAX_ITEMS} more>")
    return items


def payload_summary(args: Any, kwargs: Any) -> dict[str, Any]:
    summary = summarize(kwargs) if isinstance(kwargs, dict) else {"kwargs": summarize(kwargs)}
    if args:
        summary = {"args": summarize(args), **summary}
    return summary
