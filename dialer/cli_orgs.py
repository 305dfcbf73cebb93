"""``dialer org ...`` and ``dialer apikey ...``: organisations and their API keys."""

from __future__ import annotations

import typer
from rich.table import Column, Table

from dialer.cli_common import console, dialer_client, plain, time_column, when

org_app = typer.Typer(no_args_is_help=True, help="Organisations (tenants).")
apikey_app = typer.Typer(no_args_is_help=True, help="API keys of the HTTP API.")


@org_app.command("create")
def org_create(name: str,
               channel_cap: int = typer.Option(
                   None, "--channel-cap", min=0,
                   help="Concurrent calls across the organisation's campaigns "
                        "(default: follow DIALER_ORG_CHANNEL_CAP).")) -> None:
    """Create an organisation; prints its webhook secret (for signed provider results)."""
    from dialer.service import orgs

    with dialer_client() as client:
        org = orgs.create_org(client.runtime, name, channel_cap)
        secret = orgs.webhook_secret(client.runtime, org.id)
    console.print(f"organisation {org.name} ({org.id}): channel cap {_cap(org)}")
    console.print(f"webhook secret: {secret}", highlight=False)


@org_app.command("set-cap")
def org_set_cap(name: str,
                channel_cap: int = typer.Argument(
                    None, min=0, help="New cap; leave out to follow DIALER_ORG_CHANNEL_CAP.")
                ) -> None:
    """Change an organisation's channel cap (running campaigns see it at their next dial)."""
    from dialer.service import orgs

    with dialer_client() as client:
        org = orgs.set_channel_cap(client.runtime, name, channel_cap)
    console.print(f"organisation {org.name}: channel cap {_cap(org)}")


@org_app.command("list")
def org_list() -> None:
    """Organisations and their channel caps."""
    from dialer.service import orgs

    with dialer_client() as client:
        rows = orgs.list_orgs(client.runtime)
    table = Table("name", "id", "channel cap", time_column("created"))
    for org in rows:
        table.add_row(plain(org.name), org.id, _cap(org), when(org.created_at))
    console.print(table)


@apikey_app.command("create")
def apikey_create(org: str = typer.Option(..., "--org", help="The key's organisation."),
                  label: str = typer.Option(None, "--label", help="What the key is for.")
                  ) -> None:
    """Create an API key. The key is printed once, as the last line: store it now."""
    from dialer.service import orgs

    with dialer_client() as client:
        view, key = orgs.create_api_key(client.runtime, org, label)
    console.print(f"API key {view.prefix} ({view.id}) for organisation {view.org}; "
                  f"it is not stored and cannot be shown again:")
    # print, not Rich: nothing may wrap or style the one line a script reads.
    print(key)


@apikey_app.command("list")
def apikey_list(org: str = typer.Option(None, "--org", help="Only this organisation's.")
                ) -> None:
    """API keys by their visible prefix (the keys themselves are not stored)."""
    from dialer.service import orgs

    with dialer_client() as client:
        rows = orgs.list_api_keys(client.runtime, org)
    # The prefix names a key (`dialer apikey revoke dk_...`): never wrapped or cut.
    table = Table(Column("prefix", no_wrap=True, min_width=11), "org", "label", "state",
                  time_column("created", wide=False), time_column("last used", wide=False))
    for key in rows:
        table.add_row(key.prefix, plain(key.org), plain(key.label),
                      "revoked" if key.revoked_at else "active",
                      when(key.created_at, wide=False), when(key.last_used_at, wide=False))
    console.print(table)


@apikey_app.command("revoke")
def apikey_revoke(key_id: str = typer.Argument(..., help="The key's id or its prefix.")) -> None:
    """Revoke a key: requests with it answer 401 from now on."""
    from dialer.service import orgs

    with dialer_client() as client:
        key = orgs.revoke_api_key(client.runtime, key_id)
    console.print(f"API key {key.prefix} ({key.id}) of {key.org} revoked at "
                  f"{when(key.revoked_at)}")


def _cap(org: object) -> str:
    cap = getattr(org, "channel_cap", None)
    effective = getattr(org, "effective_channel_cap", None)
    return f"{effective} (DIALER_ORG_CHANNEL_CAP)" if cap is None else str(cap)
