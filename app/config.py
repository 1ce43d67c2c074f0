"""Settings read from the environment (rules.md §1)."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

# The demo's member whose coverage lapsed (app.demo): the simulated payer answers them inactive by default.
DEMO_INACTIVE_MEMBER = "AZDEMO-LAPSED-01"


# Limits that are settings, with their bounds: (environment variable, lowest, highest). A value outside
# them, or not a whole number, stops the process at start with the variable named.
LIMITS = {
    # Tokens a GraphQL document may have, counted before it is parsed (QUERY_TOO_COMPLEX past it). Below
    # 500 the introspection query GraphiQL sends is refused.
    "document_tokens": ("GS_DOCUMENT_TOKENS", 500, 100_000),
    # Documents longer than this many characters are parsed in one worker thread, not on the event loop
    # (0: every document); at most the request body limit (256 KiB).
    "parse_off_loop_characters": ("GS_PARSE_OFF_LOOP_CHARACTERS", 0, 256 * 1024),
    # Years from a group's recurrenceStart within which its rule must produce a first start, walked in a
    # worker thread when the group is saved. Weekdays and leap days line up again within 28 years: below
    # that some rare but real rules are refused; every added year is more of a worker thread's time.
    "recurrence_first_start_years": ("GS_RECURRENCE_FIRST_START_YEARS", 1, 100),
}


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    try:
        return int(value.strip())
    except ValueError:
        raise ValueError(f"{name} must be a whole number (default {default}), not {value!r}") from None


def _env_flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    database_url: str | None
    data_dir: Path
    broadcast_url: str
    jwt_secret: str
    billing_sweep_seconds: float
    allowed_origins: tuple[str, ...]
    dev: bool
    introspection: bool = True
    db_pool_size: int = 10
    # Who a payer calls about a claim (the 837P submitter contact, loop 1000A PER).
    edi_contact_name: str = "BILLING OFFICE"
    edi_contact_phone: str = "6025550100"
    # Seconds a request waits for a free database connection before it is answered "busy, retry".
    db_pool_timeout: float = 10.0
    # Database connections one request may hold at once for its root fields' reads (batched loads
    # share one more): 30 aliases of a list no longer take 30 connections from everyone else.
    db_connections_per_request: int = 3
    # Per caller (token subject), per process: database connections for reads across all its requests
    # and websocket operations (a websocket's operations share its 3), open websockets, subscriptions
    # running at once and distinct subscription documents among them (app.operations.callers).
    db_connections_per_caller: int = 6
    websockets_per_caller: int = 20
    subscriptions_per_caller: int = 100
    subscription_documents_per_caller: int = 10
    # Seconds a client has to send a request's headers, then its body (app.http.server_protocol).
    header_timeout: float = 10.0
    body_timeout: float = 30.0
    # Pairing codes one client address may ask for per ten minutes (a room display asks once per code;
    # behind a proxy that hides addresses, every screen shares one).
    display_codes_per_client: int = 30
    # Addresses (or CIDRs) of the reverse proxies whose X-Forwarded-For names the client; none by default,
    # so a client's address is the connection's.
    trusted_proxies: tuple[str, ...] = ()
    # Hours of the facility's wall clock after its end that a session blocked by a BLOCKING billing
    # issue waits for finalization before it is billed with its issues on the claims (rules.md §9).
    finalize_hours: float = 24.0
    # DATABASE_URL is a PgBouncer in transaction mode (GS_DB_PGBOUNCER=1): no statement caches
    # (app.db.engine); BROADCAST_URL then names PostgreSQL itself, since LISTEN needs a session.
    db_pgbouncer: bool = False
    # GS_LIVE_BUILD_ONCE=1: a session change is read and executed once in the whole cluster, by the
    # process that committed it, and published built through the broadcaster (app.live.cluster).
    live_build_once: bool = True
    # GS_READ_CACHE=0: no repeated read of the session pages is answered from kept bytes (app/http/read_cache.py).
    read_cache: bool = True
    # Webhooks (app.events.webhooks): networks a webhook URL may resolve into although they are private,
    # loopback, link-local or multicast (CIDRs; none by default), each attempt's time-out, the retry
    # schedule's first delay (each next one four times longer, up to 960 times it) and its attempts.
    webhook_allowed_networks: tuple[str, ...] = ()
    # GS_WEBHOOK_DELIVERY=0: no webhook is sent (messages wait), e.g. on a staging copy of production data.
    webhook_delivery: bool = True
    webhook_timeout_seconds: float = 10.0
    webhook_retry_base_seconds: float = 30.0
    webhook_max_attempts: int = 14
    # Memory (estimated bytes, per process) for parsed GraphQL documents (app.schema.parsing) and for
    # automatic persisted queries (app.http.persisted_queries); each counts every entry's overhead.
    # Wrong pairing codes per ten minutes: one caller, and all callers of one facility together; counted
    # in PostgreSQL, so the limits hold across processes.
    pairing_guesses_per_caller: int = 5
    pairing_guesses_per_facility: int = 50
    # Days a calendar feed's URL answers after it is made (then its owner makes a new one).
    calendar_feed_days: int = 180
    parser_cache_bytes: int = 32 * 1024 * 1024
    persisted_query_bytes: int = 8 * 1024 * 1024
    # See LIMITS: the token limit, the length past which a document parses off the event loop, and the
    # years a new recurrence rule's first start is looked for.
    document_tokens: int = 5000
    parse_off_loop_characters: int = 8 * 1024
    recurrence_first_start_years: int = 30
    # Eligibility (app.operations.eligibility): where 270s go (`simulated`: the test payer in process, which
    # answers every member but the listed ones ACTIVE; `off`), the UTC hour of the nightly check of the sessions ahead (negative: no nightly check), and the member ids
    # the simulated payer answers as inactive.
    eligibility_exchange: str = "simulated"
    eligibility_check_hour: int = 6
    simulated_inactive_members: tuple[str, ...] = (DEMO_INACTIVE_MEMBER,)
    # The clearinghouse's folders (issue 27): answers (999, 277CA, 835) dropped into the inbox are imported and
    # moved aside; the daily submission writes its 837P batches into the outbox. None: no such folder.
    edi_inbox: Path | None = None
    edi_inbox_seconds: float = 30.0
    edi_outbox: Path | None = None
    # GS_EDI_PRODUCTION=0: the 837P batches say ISA15 T (a test file the payer does not adjudicate).
    edi_production: bool = True

    def __post_init__(self) -> None:
        for field_name, (variable, lowest, highest) in LIMITS.items():
            value = getattr(self, field_name)
            if not isinstance(value, int) or not lowest <= value <= highest:
                raise ValueError(f"{variable} must be between {lowest} and {highest}, not {value!r}")

    @classmethod
    def from_env(cls) -> "Settings":
        dev = _env_flag("GS_DEV", default=os.environ.get("GS_ENV", "dev") == "dev")
        data_dir = Path(os.environ.get("GS_DATA_DIR", "./.data")).resolve()
        origins_raw = os.environ.get("GS_ALLOWED_ORIGINS")
        if origins_raw is None:
            origins = ("*",) if dev else ()
        else:
            origins = tuple(o.strip() for o in origins_raw.split(",") if o.strip())
        return cls(
            database_url=os.environ.get("DATABASE_URL") or None,
            data_dir=data_dir,
            broadcast_url=os.environ.get("BROADCAST_URL", "memory://"),
            live_build_once=_env_flag("GS_LIVE_BUILD_ONCE", default=True),
            read_cache=_env_flag("GS_READ_CACHE", default=True),
            jwt_secret=os.environ.get("GS_JWT_SECRET") or _dev_secret(data_dir),
            billing_sweep_seconds=float(os.environ.get("GS_BILLING_SWEEP_SECONDS", "30")),
            allowed_origins=origins,
            dev=dev,
            introspection=_env_flag("GS_INTROSPECTION", default=True),
            db_pool_size=int(os.environ.get("GS_DB_POOL_SIZE", "10")),
            edi_contact_name=os.environ.get("GS_EDI_CONTACT_NAME", "BILLING OFFICE"),
            edi_contact_phone=os.environ.get("GS_EDI_CONTACT_PHONE", "6025550100"),
            db_pool_timeout=float(os.environ.get("GS_DB_POOL_TIMEOUT", "10")),
            db_connections_per_request=int(os.environ.get("GS_DB_CONNECTIONS_PER_REQUEST", "3")),
            db_connections_per_caller=int(os.environ.get("GS_DB_CONNECTIONS_PER_CALLER", "6")),
            websockets_per_caller=int(os.environ.get("GS_WEBSOCKETS_PER_CALLER", "20")),
            subscriptions_per_caller=int(os.environ.get("GS_SUBSCRIPTIONS_PER_CALLER", "100")),
            subscription_documents_per_caller=int(os.environ.get("GS_SUBSCRIPTION_DOCUMENTS_PER_CALLER", "10")),
            header_timeout=float(os.environ.get("GS_HEADER_TIMEOUT_SECONDS", "10")),
            body_timeout=float(os.environ.get("GS_BODY_TIMEOUT_SECONDS", "30")),
            display_codes_per_client=int(os.environ.get("GS_DISPLAY_CODES_PER_CLIENT", "30")),
            trusted_proxies=tuple(p.strip() for p in os.environ.get("GS_TRUSTED_PROXIES", "").split(",") if p.strip()),
            finalize_hours=float(os.environ.get("GS_FINALIZE_HOURS", "24")),
            db_pgbouncer=_env_flag("GS_DB_PGBOUNCER", default=False),
            webhook_allowed_networks=tuple(
                n.strip() for n in os.environ.get("GS_WEBHOOK_ALLOWED_NETWORKS", "").split(",") if n.strip()
            ),
            webhook_delivery=_env_flag("GS_WEBHOOK_DELIVERY", default=True),
            webhook_timeout_seconds=float(os.environ.get("GS_WEBHOOK_TIMEOUT_SECONDS", "10")),
            webhook_retry_base_seconds=float(os.environ.get("GS_WEBHOOK_RETRY_BASE_SECONDS", "30")),
            webhook_max_attempts=int(os.environ.get("GS_WEBHOOK_MAX_ATTEMPTS", "14")),
            pairing_guesses_per_caller=int(os.environ.get("GS_PAIRING_GUESSES_PER_CALLER", "5")),
            pairing_guesses_per_facility=int(os.environ.get("GS_PAIRING_GUESSES_PER_FACILITY", "50")),
            calendar_feed_days=int(os.environ.get("GS_CALENDAR_FEED_DAYS", "180")),
            parser_cache_bytes=int(os.environ.get("GS_PARSER_CACHE_BYTES", str(32 * 1024 * 1024))),
            persisted_query_bytes=int(os.environ.get("GS_PERSISTED_QUERY_BYTES", str(8 * 1024 * 1024))),
            document_tokens=_env_int("GS_DOCUMENT_TOKENS", 5000),
            parse_off_loop_characters=_env_int("GS_PARSE_OFF_LOOP_CHARACTERS", 8 * 1024),
            recurrence_first_start_years=_env_int("GS_RECURRENCE_FIRST_START_YEARS", 30),
            eligibility_exchange=_eligibility_exchange(dev),
            eligibility_check_hour=int(os.environ.get("GS_ELIGIBILITY_CHECK_HOUR", "6")),
            simulated_inactive_members=tuple(
                m.strip()
                for m in os.environ.get("GS_SIMULATED_INACTIVE_MEMBERS", DEMO_INACTIVE_MEMBER).split(",")
                if m.strip()
            ),
            edi_inbox=_folder("GS_EDI_INBOX"),
            edi_inbox_seconds=float(os.environ.get("GS_EDI_INBOX_SECONDS", "30")),
            edi_outbox=_folder("GS_EDI_OUTBOX"),
            edi_production=_env_flag("GS_EDI_PRODUCTION", default=True),
        )


ELIGIBILITY_EXCHANGES = ("simulated", "off")


def _eligibility_exchange(dev: bool) -> str:
    """GS_ELIGIBILITY_EXCHANGE: `simulated` by default in dev (the demo, tests), `off` otherwise. The simulated
    payer answers every member ACTIVE, so outside dev it is refused at start unless
    GS_ELIGIBILITY_SIMULATED_OUTSIDE_DEV=1 says so (a demo server run with GS_ENV=prod)."""
    value = os.environ.get("GS_ELIGIBILITY_EXCHANGE", "").strip().lower() or ("simulated" if dev else "off")
    if value not in ELIGIBILITY_EXCHANGES:
        raise ValueError(f"GS_ELIGIBILITY_EXCHANGE must be one of {', '.join(ELIGIBILITY_EXCHANGES)}, not {value!r}")
    if value == "simulated" and not dev and not _env_flag("GS_ELIGIBILITY_SIMULATED_OUTSIDE_DEV", default=False):
        raise ValueError(
            "GS_ELIGIBILITY_EXCHANGE=simulated outside dev would record every member's coverage ACTIVE without "
            "asking a payer: set GS_ELIGIBILITY_EXCHANGE=off, or GS_ELIGIBILITY_SIMULATED_OUTSIDE_DEV=1 for a demo"
        )
    return value


def _folder(name: str) -> Path | None:
    value = os.environ.get(name, "").strip()
    return Path(value).resolve() if value else None


def _dev_secret(data_dir: Path) -> str:
    """A signing key generated once and kept in the data dir, so dev tokens survive restarts."""
    path = data_dir / "jwt-secret"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    path.write_text(secret)
    path.chmod(0o600)
    return secret
