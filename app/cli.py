"""`group-sessions` command line: serve, migrate, demo, token, bill-due, export-schema, payer-sim, import-edi, submit-claims."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Optional

import typer

from app.config import Settings

ADMIN_SUBJECT = "cli-admin"  # `token --admin` without --subject: an administrator, never a staff member's subject

cli = typer.Typer(add_completion=False, no_args_is_help=True, help="Group Sessions API")


@cli.command()
def serve(
    demo: Annotated[bool, typer.Option("--demo", help="Load the demo clinic first")] = False,
    host: Annotated[str, typer.Option(help="Interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="Worker processes on the one port (uvicorn's workers); more than 1 needs a shared BROADCAST_URL (postgres:// or redis://)",
        ),
    ] = 1,
) -> None:
    """Run the GraphQL server (migrates the database first)."""
    import uvicorn

    from app.auth import ALL_SCOPES, FACILITATOR_SCOPES, mint_token
    from app.http.bodies import MAX_BODY_BYTES
    from app.http.server_protocol import deadline_protocol
    from app.main import create_app

    settings = Settings.from_env()
    if workers > 1 and settings.broadcast_url.startswith("memory://"):
        # Each worker would have its own in-memory broadcaster: a change made through one worker would
        # never reach the watchers connected to another.
        typer.echo(
            "--workers above 1 needs BROADCAST_URL=postgres://... or redis://... (memory:// reaches one process only)",
            err=True,
        )
        raise typer.Exit(code=2)
    if workers > 1 and not settings.database_url:
        typer.echo("--workers above 1 needs DATABASE_URL (the embedded database serves one process)", err=True)
        raise typer.Exit(code=2)
    if demo:
        _load_demo(settings)
    address = f"http://{host}:{port}/graphql"
    typer.echo(f"GraphQL endpoint: {address}" + (" (GraphiQL in a browser)" if settings.dev else ""))
    typer.echo(f"Room display page: http://{host}:{port}/display (pair it with pairDisplay)")
    if settings.dev:
        typer.echo("Admin token (dev only):")
        typer.echo(f"  {mint_token(settings.jwt_secret, 'dev-admin', ALL_SCOPES, ['*'])}")
        typer.echo("Facilitator token (dev only):")
        typer.echo(f"  {mint_token(settings.jwt_secret, 'dev-facilitator', FACILITATOR_SCOPES, ['*'])}")
        typer.echo('In GraphiQL, add the header {"Authorization": "Bearer <token>"}.')
    typer.echo("Stop with Ctrl+C.")
    options = dict(
        host=host,
        port=port,
        log_level="info",
        ws="websockets-sansio",
        ws_max_size=MAX_BODY_BYTES,  # a websocket message is capped like a request body (close 1009)
        # X-Forwarded-For and -Proto only from the proxies named in GS_TRUSTED_PROXIES (none by default):
        # uvicorn trusts 127.0.0.1's by default, so anyone on the host, or behind a proxy that passes the
        # header through, chose their own address for the per-address limits.
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=",".join(settings.trusted_proxies),
    )
    if workers > 1:
        from app.db.migrate import upgrade

        upgrade(settings.database_url)  # once, here: the workers then find the schema up to date
        # Worker processes import the app and the protocol by name; each migrates (a no-op once done) and
        # runs its own feed, relay and billing sweep, which take database locks to share the work.
        uvicorn.run(
            "app.main:app_from_env",
            factory=True,
            workers=workers,
            http="app.http.server_protocol:SettingsDeadlineHttpToolsProtocol",
            **options,
        )
        return
    uvicorn.run(create_app(settings), http=deadline_protocol(settings.header_timeout, settings.body_timeout), **options)


@cli.command()
def migrate() -> None:
    """Apply every Alembic migration to the database."""
    from app.main import open_services

    async def run() -> None:
        async with open_services(Settings.from_env()):
            pass

    asyncio.run(run())
    typer.echo("Database is at the latest migration.")


@cli.command()
def token(
    subject: Annotated[
        Optional[str], typer.Option("--subject", "-s", help="Staff id or service name (required unless --admin)")
    ] = None,
    scope: Annotated[Optional[list[str]], typer.Option("--scope", help="A scope (repeatable)")] = None,
    facility: Annotated[
        Optional[list[str]], typer.Option("--facility", help="A facility id (repeatable); '*' for all")
    ] = None,
    admin: Annotated[bool, typer.Option("--admin", help="Every scope, every facility")] = False,
    ttl_hours: Annotated[float, typer.Option(help="Hours until the token expires")] = 12,
) -> None:
    """Mint a bearer token signed with GS_JWT_SECRET."""
    from app.auth import ALL_SCOPES, mint_token

    if subject is None and not admin:
        # One shared default subject made every minted token the same caller (its Idempotency-Keys, its audit trail).
        raise typer.BadParameter(
            "--subject is required (the staff id or service name the token acts as)", param_hint="--subject"
        )
    subject = subject or ADMIN_SUBJECT
    settings = Settings.from_env()
    scopes = list(ALL_SCOPES) if admin else list(scope or [])
    facilities = ["*"] if admin and not facility else list(facility or [])
    typer.echo(mint_token(settings.jwt_secret, subject, scopes, facilities, int(ttl_hours * 3600)))


@cli.command("export-schema")
def export_schema() -> None:
    """Print the GraphQL SDL (schema.graphql is this output)."""
    from app.schema.root import schema

    typer.echo(str(schema))


@cli.command("bill-due")
def bill_due() -> None:
    """Bill every ended, unbilled session now."""
    from app.main import open_services
    from app.operations.billing_pipeline import bill_due_sessions

    async def run() -> int:
        async with open_services(Settings.from_env()) as services:
            return await bill_due_sessions(services)

    typer.echo(f"Billed {asyncio.run(run())} session(s).")


@cli.command("payer-sim")
def payer_sim(
    inbox: Annotated[Path, typer.Argument(exists=True, file_okay=False, help="Folder of 837P batches and 270s")],
    outbox: Annotated[Path, typer.Argument(file_okay=False, help="Folder the 999, 277CA, 835 and 271 go to")],
    seed: Annotated[int, typer.Option(help="Where in the payer's mix of outcomes the run starts")] = 0,
    inactive: Annotated[Optional[list[str]], typer.Option(help="A member id with ended coverage (repeatable)")] = None,
    unknown: Annotated[
        Optional[list[str]], typer.Option(help="A member id the payer does not know (repeatable)")
    ] = None,
) -> None:
    """Answer our 837P batches and 270 inquiries as a payer would: a test payer, never a real one."""
    from app.payer_sim import Policy, answer_folder

    policy = Policy(seed=seed, inactive_members=frozenset(inactive or ()), unknown_members=frozenset(unknown or ()))
    report = answer_folder(inbox, outbox, policy)
    for path in report.written:
        typer.echo(f"wrote {path}")
    for claim_number, outcome in report.outcomes.items():
        typer.echo(f"claim {claim_number}: {outcome.value}")
    for path, reason in report.refused.items():
        typer.echo(f"refused {path}: {reason}", err=True)
    if report.refused:
        raise typer.Exit(code=1)


@cli.command("import-edi")
def import_edi(
    files: Annotated[list[Path], typer.Argument(exists=True, dir_okay=False, help="999, 277CA or 835 files")],
) -> None:
    """Import the payer's answers: each file in its own transaction, refused whole with the segment and line at
    fault; a file imported before changes nothing."""
    from app.main import open_services
    from app.operations.remittance import CLI_ACTOR, import_file

    async def run() -> int:
        refused = 0
        async with open_services(Settings.from_env()) as services:
            for path in files:
                outcome = await import_file(services, path, actor=CLI_ACTOR, source="cli")
                if outcome.refusal is not None:
                    refused += 1
                    typer.echo(f"refused {path}: {outcome.refusal}", err=True)
                    continue
                result = outcome.result
                assert result is not None
                if result.duplicate:
                    typer.echo(
                        f"{path}: {result.kind} imported before ({result.file.imported_at:%Y-%m-%d %H:%M}); nothing changed"
                    )
                    continue
                typer.echo(f"{path}: {result.kind}, {len(result.changes)} claim(s) changed")
                for change in result.changes:
                    typer.echo(f"  claim {change.claim_number}: {change.before} -> {change.after}")
                for number in result.file.summary.get("alreadyPosted", []):
                    typer.echo(f"  claim {number}: already posted (the same payment in another file); nothing changed")
        return refused

    if asyncio.run(run()):
        raise typer.Exit(code=1)


@cli.command("submit-claims")
def submit_claims() -> None:
    """The daily submission (run it from cron): every DRAFT claim that may go, one 837P per facility and payer,
    written to GS_EDI_OUTBOX."""
    from app.auth import ALL_SCOPES, Principal
    from app.main import open_services
    from app.operations.billing import SubmitterContact
    from app.operations.claim_batches import submit_batches
    from app.operations.work import unit_of_work

    async def run() -> None:
        settings = Settings.from_env()
        actor = Principal(subject="cli-submit-claims", scopes=frozenset(ALL_SCOPES), facilities=("*",))
        async with open_services(settings) as services, unit_of_work(services, actor.subject) as uow:
            submission = await submit_batches(
                uow,
                actor,
                SubmitterContact(settings.edi_contact_name, settings.edi_contact_phone),
                production=settings.edi_production,
                outbox=settings.edi_outbox,
            )
        for batch in submission.batches:
            typer.echo(f"{batch.file_name}: {batch.claim_count} claim(s)")
        for claim, reason in submission.held:
            typer.echo(f"held {claim.claim_number}: {reason}")
        if not submission.batches:
            typer.echo("No claim to send.")

    asyncio.run(run())


@cli.command()
def demo() -> None:
    """Load the demo clinic (idempotent)."""
    _load_demo(Settings.from_env())


def _load_demo(settings: Settings) -> None:
    from app.demo import load_demo
    from app.main import open_services

    async def run() -> str:
        async with open_services(settings) as services:
            return await load_demo(services)

    typer.echo(asyncio.run(run()))


def main() -> None:
    cli()
