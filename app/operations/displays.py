"""Room displays (issue 18): a screen asks for a pairing code, staff pair it to a facility and a
location, the screen claims its device credential once, rotates it, and shows its room; staff list
and revoke displays and choose how the facility's displays show patients' names."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth import Principal, mint_display_token
from app.db import models
from app.db.queries import displays as queries
from app.db.queries import limits
from app.db.queries.common import Page
from app.db.uow import UnitOfWork
from app.errors import BadInput, Conflict, Forbidden, IllegalTransition, NotFound, Unauthenticated
from app.live.publish import stage_display_change, stage_schedule_change
from app.operations.common import facilities_seen, require_text, visible_or_not_found
from app.rules import displays as rules

CLAIM_BYTES = 32
MAX_PENDING_PAIRINGS = 1000  # codes shown at once, all screens together: beyond it, "try again shortly"
NO_SUCH_CODE = "No display is showing that pairing code (codes last 10 minutes and pair once)"


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class StartedPairing:
    display: models.RoomDisplay
    code: str
    claim: str  # the screen's secret for claiming its credential; only its hash is kept


@dataclass(frozen=True)
class Claimed:
    state: rules.PairingState
    display: models.RoomDisplay | None = None
    credential: str | None = None


@dataclass(frozen=True)
class IssuedCredential:
    display: models.RoomDisplay
    credential: str
    expires_at: datetime


class RecentAttempts:
    """Attempts per key inside the window, kept by the process (app.rules.displays.guess_decision
    decides); the oldest keys are forgotten past MAX_KEYS."""

    MAX_KEYS = 10_000

    def __init__(self) -> None:
        self._attempts: OrderedDict[str, tuple[datetime, ...]] = OrderedDict()

    def refusal(self, key: str, now: datetime, limit: int) -> int | None:
        """Seconds to wait when `key` has used up its attempts, else None."""
        decision = rules.guess_decision(self._attempts.get(key, ()), now, limit=limit)
        return None if decision.allowed else max(1, int(decision.retry_after.total_seconds()))

    def record(self, key: str, now: datetime, limit: int) -> None:
        recent = rules.guess_decision(self._attempts.get(key, ()), now, limit=limit).recent
        self._attempts[key] = (*recent, now)
        self._attempts.move_to_end(key)
        while len(self._attempts) > self.MAX_KEYS:
            self._attempts.popitem(last=False)


class PairingAttempts:
    """Pairing-code guesses, counted in PostgreSQL so that every process shares them, each one counted
    before its code is looked at: one caller may guess `per_caller` times per window and all callers
    of one facility together `per_facility` times (a burst of one caller's guesses no longer closed
    pairing for every facility). A right code is taken off the count again."""

    PURGE_EVERY = timedelta(minutes=5)

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        per_caller: int = rules.GUESS_LIMIT,
        per_facility: int = rules.GUESS_LIMIT * 10,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.per_caller = per_caller
        self.per_facility = per_facility
        self._last_purge: datetime | None = None

    @staticmethod
    def keys(caller: str, facility_id: uuid.UUID | None) -> list[str]:
        keys = [f"pairing-guess:caller:{caller}"]
        if facility_id is not None:
            keys.append(f"pairing-guess:facility:{facility_id}")
        return keys

    async def count(self, caller: str, facility_id: uuid.UUID | None, now: datetime) -> None:
        """Count this guess (committed at once, whatever becomes of the request); FORBIDDEN past a limit."""
        async with self.sessionmaker() as db, db.begin():
            if self._last_purge is None or now - self._last_purge >= self.PURGE_EVERY:
                self._last_purge = now
                await limits.forget_windows_before(db, now - rules.GUESS_WINDOW)
            # a caller past its own limit spends none of the facility's
            for key, limit in zip(self.keys(caller, facility_id), (self.per_caller, self.per_facility), strict=False):
                count, started = await limits.count_attempt(db, key, now, rules.GUESS_WINDOW)
                if count > limit:
                    break
            else:
                return
        seconds = max(1, int((started + rules.GUESS_WINDOW - now).total_seconds()))
        raise Forbidden(f"Too many wrong pairing codes; try again in {seconds} seconds")

    async def right(self, caller: str, facility_id: uuid.UUID | None) -> None:
        async with self.sessionmaker() as db, db.begin():
            for key in self.keys(caller, facility_id):
                await limits.uncount_attempt(db, key)


def _snapshot(display: models.RoomDisplay) -> dict:
    """The audit view: where it hangs, never its secrets."""
    return {
        "facilityId": str(display.facility_id) if display.facility_id else None,
        "location": display.location,
        "label": display.label,
        "credentialGeneration": display.credential_generation,
        "revokedAt": display.revoked_at.isoformat() if display.revoked_at else None,
    }


async def start_pairing(uow: UnitOfWork, requests: RecentAttempts, client: str, per_client: int) -> StartedPairing:
    """A new screen: a code to show for ten minutes, and the secret it polls with. Nobody is signed in
    yet, so each client address may ask `per_client` times per ten minutes (a screen asks once per
    code); all together at most MAX_PENDING_PAIRINGS codes are shown at once."""
    db, now = uow.db, uow.clock.now()
    seconds = requests.refusal(client, now, per_client)
    if seconds is not None:
        raise Conflict(f"Too many pairing codes asked for from this address; try again in {seconds} seconds")
    requests.record(client, now, per_client)
    await queries.forget_stale_pairings(db, now - rules.PAIRING_CODE_TTL)
    if await queries.pending_count(db, now) >= MAX_PENDING_PAIRINGS:
        raise Conflict("Too many displays are waiting to be paired; try again in a minute")
    candidates = [
        "".join(secrets.choice(rules.PAIRING_CODE_ALPHABET) for _ in range(rules.PAIRING_CODE_LENGTH)) for _ in range(5)
    ]
    taken = await queries.pending_codes(db, candidates, now)
    code = next(c for c in candidates if c not in taken)  # five taken at once: never, with 31^6 codes
    claim = secrets.token_urlsafe(CLAIM_BYTES)
    display = models.RoomDisplay(
        id=uuid.uuid4(),
        pairing_code=code,
        pairing_expires_at=now + rules.PAIRING_CODE_TTL,
        claim_hash=hash_secret(claim),
    )
    db.add(display)
    await db.flush()
    return StartedPairing(display, code, claim)


async def pair_display(
    uow: UnitOfWork,
    actor: Principal,
    attempts: PairingAttempts,
    *,
    code: str,
    facility_id: uuid.UUID,
    location: str,
    label: str,
) -> models.RoomDisplay:
    """Bind the screen showing `code` to a facility's room. A wrong code counts against the caller."""
    db, now = uow.db, uow.clock.now()
    # Counted first, on a connection of its own that is given back before this request takes one (a
    # burst holding one connection each while waiting for a second would starve the pool). A facility
    # the token does not name does not count: a caller cannot spend another facility's guesses.
    await attempts.count(actor.subject, facility_id if actor.sees_facility(facility_id) else None, now)
    facility = visible_or_not_found(actor, await db.get(models.Facility, facility_id), "Facility")
    location = require_text("location", location)
    label = require_text("label", label)
    normalized = rules.normalize_code(code)
    display = await queries.lock_pending_by_code(db, normalized, now) if normalized else None
    if display is None:
        raise NotFound(NO_SUCH_CODE)
    await attempts.right(actor.subject, facility.id)
    display.facility_id, display.location, display.label = facility.id, location, label
    display.paired_by, display.paired_at, display.pairing_code = actor.subject, now, None
    await db.flush()
    uow.audit("display.pair", "RoomDisplay", display.id, after=_snapshot(display))
    return display


async def claim_credential(uow: UnitOfWork, claim: str, secret: str) -> Claimed:
    """What a screen polling with its claim learns: still PENDING, EXPIRED (ask for a new code), or
    PAIRED with its credential, handed out this once (the claim is forgotten)."""
    db, now = uow.db, uow.clock.now()
    display = await queries.lock_by_claim(db, hash_secret(claim)) if claim else None
    if display is None:
        return Claimed(rules.PairingState.EXPIRED)
    state = rules.pairing_state(expires_at=display.pairing_expires_at, paired_at=display.paired_at, now=now)
    if state != rules.PairingState.PAIRED:
        return Claimed(state, display)
    if display.revoked_at is not None:
        return Claimed(rules.PairingState.EXPIRED)
    display.claim_hash = None
    issued = _issue(display, secret, now)
    uow.audit("display.credential_issue", "RoomDisplay", display.id, after=_snapshot(display))
    return Claimed(state, display, issued.credential)


def _issue(display: models.RoomDisplay, secret: str, now: datetime) -> IssuedCredential:
    display.credential_generation += 1
    display.credential_issued_at = now
    # A bearer token's times are the wall clock's, as every token's (app.auth).
    credential = mint_display_token(
        secret,
        str(display.id),
        str(display.facility_id),
        display.credential_generation,
        int(rules.CREDENTIAL_LIFETIME.total_seconds()),
    )
    return IssuedCredential(display, credential, datetime.now(timezone.utc) + rules.CREDENTIAL_LIFETIME)


async def live_display(db, actor: Principal) -> models.RoomDisplay:
    """The display a credential belongs to, while it is paired, not revoked and of the current generation."""
    if not actor.is_display:
        raise Forbidden("Only a paired display's credential can do this")
    display = await db.get(models.RoomDisplay, uuid.UUID(actor.display_id)) if _is_uuid(actor.display_id) else None
    if display is None or display.revoked_at is not None or display.paired_at is None:
        raise Unauthenticated("Display revoked")
    if display.credential_generation != actor.credential_generation:
        raise Unauthenticated("Display credential replaced by a newer one")
    return display


def _is_uuid(value: str | None) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


async def rotate_credential(uow: UnitOfWork, actor: Principal, secret: str) -> IssuedCredential:
    """A display replaces its own credential; the one it used stops working (its socket is closed)."""
    display = await live_display(uow.db, actor)
    await uow.db.refresh(display, with_for_update=True)
    if display.credential_generation != actor.credential_generation:
        raise Unauthenticated("Display credential replaced by a newer one")
    before = _snapshot(display)
    issued = _issue(display, secret, uow.clock.now())
    uow.audit("display.credential_rotate", "RoomDisplay", display.id, before=before, after=_snapshot(display))
    await stage_display_change(uow, display.id)
    return issued


async def revoke_display(uow: UnitOfWork, actor: Principal, display_id: uuid.UUID) -> models.RoomDisplay:
    """Its credential stops working and its socket is closed at once; the screen asks for a new code."""
    display = await uow.db.get(models.RoomDisplay, display_id, with_for_update=True)
    if display is None or display.paired_at is None:
        raise NotFound("No RoomDisplay with that id")
    visible_or_not_found(actor, display, "RoomDisplay")
    if display.revoked_at is not None:
        raise IllegalTransition("The display is already revoked")
    before = _snapshot(display)
    display.revoked_at = uow.clock.now()
    uow.audit("display.revoke", "RoomDisplay", display.id, before=before, after=_snapshot(display))
    await stage_display_change(uow, display.id)
    return display


async def displays(
    db, actor: Principal, *, include_revoked: bool, window: Page
) -> tuple[list[models.RoomDisplay], int]:
    return await queries.displays_page(
        db, facility_ids=facilities_seen(actor), include_revoked=include_revoked, window=window
    )


async def set_display_name_format(
    uow: UnitOfWork, actor: Principal, facility_id: uuid.UUID, name_format: rules.NameFormat
) -> models.Facility:
    facility = visible_or_not_found(
        actor, await uow.db.get(models.Facility, facility_id, with_for_update=True), "Facility"
    )
    before = {"displayNameFormat": facility.display_name_format}
    facility.display_name_format = rules.NameFormat(name_format).value
    uow.audit(
        "facility.display_name_format",
        "Facility",
        facility.id,
        before=before,
        after={"displayNameFormat": facility.display_name_format},
    )
    await stage_schedule_change(uow, facility.id)  # the facility's displays show the names again
    return facility


async def set_display_mode(
    uow: UnitOfWork, actor: Principal, display_id: uuid.UUID, mode: rules.DisplayMode
) -> models.RoomDisplay:
    """What a display shows: STAFF, or PATIENT_FACING for a screen patients can see. It shows its room
    again in the new mode at once."""
    display = await uow.db.get(models.RoomDisplay, display_id, with_for_update=True)
    if display is None or display.paired_at is None:
        raise NotFound("No RoomDisplay with that id")
    visible_or_not_found(actor, display, "RoomDisplay")
    before = {"mode": display.mode}
    display.mode = rules.DisplayMode(mode).value
    uow.audit("display.mode", "RoomDisplay", display.id, before=before, after={"mode": display.mode})
    await stage_schedule_change(uow, display.facility_id)
    return display


@dataclass(frozen=True)
class Room:
    facility: models.Facility
    location: str
    label: str | None
    mode: rules.DisplayMode = rules.DisplayMode.STAFF
    display_id: uuid.UUID | None = None  # a display's own room; None when staff preview one


@dataclass(frozen=True)
class RoomView:
    room: Room
    session_id: uuid.UUID | None  # in progress, else next today, else None
    changes_at: datetime  # the next boundary: look again then
    today: date
    next_session_date: date | None  # when there is nothing more today: the room's next session's date

    @property
    def shown(self) -> tuple:
        """What the wall shows of the room: when this changes, the display gets a new SNAPSHOT (its
        next boundary is not shown; the shown session's own changes come on its channel)."""
        facility = self.room.facility
        return (
            self.session_id,
            self.today,
            self.next_session_date,
            facility.name,
            facility.timezone,
            facility.display_name_format,
            self.room.location,
            self.room.label,
            self.room.mode,
        )


async def room_of(
    db, actor: Principal, facility_id: uuid.UUID | None, location: str | None, mode: rules.DisplayMode | None = None
) -> Room:
    """The room a caller watches: a display's own, in its mode; staff name a facility of theirs and a
    location, and preview it in either mode (STAFF unless asked)."""
    if actor.is_display:
        if facility_id is not None or location is not None or mode is not None:
            raise BadInput("A display shows its own room in its own mode: leave facilityId, location and mode out")
        display = await live_display(db, actor)
        return _display_room(await db.get(models.Facility, display.facility_id), display)
    if facility_id is None or location is None:
        raise BadInput("Give facilityId and location (the groups' location) of the room to show")
    facility = visible_or_not_found(actor, await db.get(models.Facility, facility_id), "Facility")
    return Room(facility, require_text("location", location), None, mode or rules.DisplayMode.STAFF)


def _display_room(facility: models.Facility, display: models.RoomDisplay) -> Room:
    return Room(facility, display.location, display.label, rules.DisplayMode(display.mode), display.id)


async def reread_room(db, room: Room) -> Room:
    """The room as it is now: its facility (time zone, name format) and its display's mode may have changed."""
    facility = await db.get(models.Facility, room.facility.id)
    if room.display_id is None:
        return Room(facility, room.location, room.label, room.mode)
    display = await db.get(models.RoomDisplay, room.display_id)
    return _display_room(facility, display) if display is not None else room


async def room_view(db, room: Room, now: datetime) -> RoomView:
    zone = room.facility.timezone
    midnight = rules.local_midnight_after(now, zone)
    sessions = await queries.room_sessions(db, room.facility.id, room.location, now, midnight)
    pick = rules.pick_session([rules.RoomSlot(s.id, s.starts_at, s.ends_at) for s in sessions], now, zone)
    next_date = None
    if pick.session_id is None:
        next_start = await queries.next_room_session_start(db, room.facility.id, room.location, now)
        next_date = rules.local_today(next_start, zone) if next_start else None
    return RoomView(room, pick.session_id, pick.changes_at, rules.local_today(now, zone), next_date)
