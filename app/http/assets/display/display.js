// The room display: pairs itself with a code, then shows its room's session live over
// graphql-transport-ws, reconnecting with backoff for as long as the page is open.
import { createClient } from "./graphql-ws-client.js";

const CREDENTIAL_KEY = "groupSessions.display.credential";
const ROTATE_AFTER_MS = 7 * 24 * 3600 * 1000; // app.rules.displays.ROTATE_AFTER (tests/rules/test_displays.py holds them equal)
const MAX_BACKOFF_MS = 30_000;
const REVOKED = 4403; // the service revoked this display: pair again
const UNAUTHORIZED = 4401; // the credential is bad, expired, or replaced by a newer one
const REPLACED = "Display credential replaced";

const MODE_KEY = "groupSessions.display.mode";
const PATIENT_FACING_REFUSAL = "A patient-facing display"; // the server's FORBIDDEN for a staff selection

const ROOM = "room { label location mode facilityName timezone today nextSessionDate }";
// Each mode asks for what it shows: a patient-facing screen has no billing panel and no member's status.
const QUERIES = {
  STAFF: `subscription RoomDisplay {
  roomDisplay {
    kind sequence at
    ${ROOM}
    session {
      id title status startTime endTime
      facilitator { name }
      supervisors { id status staff { name } }
      roster { id status noteStatus displayName }
      attendance { scheduled attended late absent total }
    }
    billingPreview {
      billableCount readyToBill
      band { minSize maxSize procedureCode modifiers }
      issues { code severity message accepted participantIds }
    }
  }
}`,
  PATIENT_FACING: `subscription RoomDisplay {
  roomDisplay {
    kind sequence at
    ${ROOM}
    session {
      id title status startTime endTime
      facilitator { name }
      supervisors { id staff { name } }
      roster { id displayName }
      attendance { total }
    }
  }
}`,
};

function currentMode() {
  return localStorage.getItem(MODE_KEY) === "PATIENT_FACING" ? "PATIENT_FACING" : "STAFF";
}

const ROTATE = "mutation RotateDisplayCredential { rotateDisplayCredential { credential expiresAt } }";

const $ = (id) => document.getElementById(id);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const status = { messages: 0, lastKind: null, connection: "starting", timezone: undefined };
window.roomDisplay = { status, rotateCredential };

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

function backoff(failures) {
  const base = Math.min(MAX_BACKOFF_MS, 500 * 2 ** Math.min(failures, 16));
  return base / 2 + Math.random() * (base / 2);
}

function setState(state, bannerText = "") {
  status.connection = state;
  document.body.dataset.state = state;
  const banner = $("banner");
  banner.hidden = !bannerText;
  banner.textContent = bannerText;
  banner.dataset.kind = state;
}

// ------------------------------------------------------------------ pairing

async function pair() {
  $("room").hidden = true;
  $("pairing").hidden = false;
  let failures = 0;
  for (;;) {
    let pairing;
    try {
      const response = await fetch("/display/pairings", { method: "POST" });
      if (!response.ok) throw new Error(`pairing answered ${response.status}`);
      pairing = await response.json();
      failures = 0;
    } catch {
      setState("reconnecting", "Cannot reach the server. Trying again…");
      await sleep(backoff(failures++));
      continue;
    }
    setState("pairing");
    $("pairing-code").textContent = pairing.code;
    const expires = Date.now() + pairing.expiresInSeconds * 1000;
    for (;;) {
      const minutes = Math.max(0, Math.ceil((expires - Date.now()) / 60000));
      $("pairing-expiry").textContent = `This code works for ${minutes} more minute${minutes === 1 ? "" : "s"}.`;
      await sleep(pairing.pollSeconds * 1000);
      let answer;
      try {
        const response = await fetch("/display/pairings/claim", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ claim: pairing.claim }),
        });
        answer = await response.json();
        setState("pairing");
      } catch {
        setState("reconnecting", "Cannot reach the server. Trying again…");
        continue;
      }
      if (answer.state === "PAIRED") {
        localStorage.setItem(CREDENTIAL_KEY, answer.credential);
        return;
      }
      if (answer.state === "EXPIRED") break; // a new code
    }
  }
}

// ------------------------------------------------------------------ live

function wsUrl() {
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/graphql`;
}

function closeCode(error) {
  return error && typeof error === "object" && "code" in error && "reason" in error ? error : null;
}

function watchOnce(credential) {
  // One connection and one subscription; resolves with why it ended. Reconnecting is the caller's.
  return new Promise((resolve) => {
    let delivered = false;
    let finished = false;
    const mode = currentMode();
    const client = createClient({
      url: wsUrl(),
      lazy: true,
      retryAttempts: 0,
      keepAlive: 10_000,
      connectionParams: { Authorization: `Bearer ${credential}` },
    });
    const finish = (reason) => {
      if (finished) return;
      finished = true;
      unsubscribe();
      client.dispose();
      resolve({ reason, delivered });
    };
    const unsubscribe = client.subscribe(
      { query: QUERIES[mode] },
      {
        next(message) {
          if (message.errors?.length) {
            // The service ends a revoked or replaced credential's stream as well as closing its socket.
            const { message: text = "", extensions = {} } = message.errors[0];
            if (extensions.code === "FORBIDDEN" && text.startsWith(PATIENT_FACING_REFUSAL)) {
              localStorage.setItem(MODE_KEY, "PATIENT_FACING"); // switched: subscribe for what this mode shows
              finish("mode");
            } else if (extensions.code !== "UNAUTHENTICATED") finish("failed");
            else if (text === "Display revoked") finish("revoked");
            else if (text.startsWith("Display credential replaced")) finish("replaced");
            else finish("unauthorized");
            return;
          }
          delivered = true;
          const update = message.data.roomDisplay;
          if (update.room.mode !== mode) {
            localStorage.setItem(MODE_KEY, update.room.mode); // switched back to STAFF: ask for its fields
            finish("mode");
            return;
          }
          render(update);
          maybeRotate(credential);
        },
        error(error) {
          const closed = closeCode(error);
          if (closed?.code === REVOKED) finish("revoked");
          else if (closed?.code === UNAUTHORIZED) finish(closed.reason === REPLACED ? "replaced" : "unauthorized");
          else finish("lost");
        },
        complete() {
          finish("lost");
        },
      },
    );
  });
}

async function watchForever() {
  let failures = 0;
  let unauthorized = 0;
  for (;;) {
    const credential = localStorage.getItem(CREDENTIAL_KEY);
    if (!credential) return;
    if (status.connection !== "live" && status.connection !== "paused") setState("connecting", status.messages ? "Reconnecting…" : "");
    const { reason, delivered } = await watchOnce(credential);
    // The server closes the old credential's socket as soon as a rotation commits, which can be
    // before the rotation's answer is stored: connecting again with the old credential would be
    // refused as revoked (4403) and the page would pair again. Wait for the new one.
    await rotation;
    if (delivered) failures = 0;
    if (reason === "revoked") {
      localStorage.removeItem(CREDENTIAL_KEY);
      localStorage.removeItem(MODE_KEY);
      return;
    }
    if (reason === "unauthorized" && ++unauthorized >= 3) {
      localStorage.removeItem(CREDENTIAL_KEY); // a credential the server will not take: pair again
      return;
    }
    if (reason !== "unauthorized") unauthorized = 0;
    if (reason === "mode") continue; // the same connection's worth: no banner, no wait
    setState("reconnecting", "Reconnecting to the server…");
    if (reason === "replaced") continue; // the new credential is already stored
    await sleep(backoff(failures++));
  }
}

function issuedAt(credential) {
  try {
    const payload = JSON.parse(atob(credential.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
    return payload.iat * 1000;
  } catch {
    return 0;
  }
}

let rotation = null; // the rotation in flight: a promise of whether it stored a new credential
let lastRotationAttempt = 0;

function maybeRotate(credential) {
  // At most one attempt an hour: a refused rotation is tried again later, never in a loop.
  if (rotation || Date.now() - lastRotationAttempt < 3600_000) return;
  if (Date.now() - issuedAt(credential) > ROTATE_AFTER_MS) {
    lastRotationAttempt = Date.now();
    rotateCredential();
  }
}

function rotateCredential() {
  // The display replaces its own credential; the server then closes the socket that used the old
  // one (4401 "replaced") and the next connection uses the new one.
  if (rotation) return Promise.resolve(false);
  rotation = storeRotatedCredential().finally(() => {
    rotation = null;
  });
  return rotation;
}

async function storeRotatedCredential() {
  try {
    const response = await fetch("/graphql", {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/graphql-response+json",
        Authorization: `Bearer ${localStorage.getItem(CREDENTIAL_KEY)}`,
      },
      body: JSON.stringify({ query: ROTATE, operationName: "RotateDisplayCredential" }),
    });
    const body = await response.json();
    const fresh = body.data?.rotateDisplayCredential?.credential;
    if (fresh) localStorage.setItem(CREDENTIAL_KEY, fresh);
    return Boolean(fresh);
  } catch {
    return false; // tried again with the next update
  }
}

// ------------------------------------------------------------------ rendering

const STATUS_LABELS = { ATTENDED: "✓ Present", LATE: "◔ Late", ABSENT: "✕ Absent", SCHEDULED: "· Not marked" };
const SESSION_LABELS = {
  IN_PROGRESS: "In session", SCHEDULED: "Up next", ENDED: "Ended", AWAITING_FINALIZATION: "Awaiting finalization",
  LOCKED: "Billed", CLOSED: "Closed", CANCELLED: "Cancelled",
};

function clockTime(text) {
  const [hours, minutes] = text.split(":").map(Number);
  const suffix = hours < 12 ? "AM" : "PM";
  return `${((hours + 11) % 12) + 1}:${String(minutes).padStart(2, "0")} ${suffix}`;
}

function longDate(isoDate) {
  const [y, m, d] = isoDate.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d)).toLocaleDateString("en-US", { weekday: "long", month: "long", day: "numeric", timeZone: "UTC" });
}

function statusPill(value) {
  return el("span", { class: `status ${value}` }, STATUS_LABELS[value] ?? value);
}

const NOTE_LABELS = { DRAFT: "note drafted", SIGNED: "note signed", CO_SIGNED: "note co-signed" };

function render(update) {
  status.messages += 1;
  status.lastKind = update.kind;
  status.sequence = update.sequence;
  status.timezone = update.room.timezone;
  if (update.kind === "PAUSED") {
    setState("paused", "Paused: live updates are interrupted. Showing the last known state.");
  } else {
    setState("live");
  }
  $("pairing").hidden = true;
  $("room").hidden = false;
  const room = update.room;
  document.body.dataset.mode = room.mode;
  $("room-name").textContent = room.label ? `${room.label} · ${room.location}` : room.location;
  $("facility-name").textContent = room.facilityName;
  tick();
  const area = $("session-area");
  area.dataset.sessionId = update.session?.id ?? "";
  area.dataset.sequence = String(update.sequence);
  const staff = room.mode !== "PATIENT_FACING";
  area.replaceChildren(...(update.session ? sessionView(update.session, staff ? update.billingPreview : undefined, staff) : emptyView(room)));
  fitIssues();
}

function emptyView(room) {
  const next = room.nextSessionDate
    ? `Next session here: ${longDate(room.nextSessionDate)}`
    : "No sessions are scheduled in this room.";
  return [el("div", { class: "empty", id: "empty" }, el("h2", {}, "No more sessions today"), el("p", { id: "next-date" }, next))];
}

function rosterRow(row, staff) {
  if (!staff) return el("li", { "data-id": row.id }, el("span", { class: "name" }, row.displayName));
  const note = NOTE_LABELS[row.noteStatus];
  return el(
    "li", { "data-id": row.id, "data-status": row.status },
    el("span", { class: "name" }, row.displayName, note ? el("small", { class: "note" }, note) : null),
    statusPill(row.status),
  );
}

function sessionView(session, preview, staff) {
  const counts = session.attendance;
  const header = el(
    "div", { class: "title-row" },
    el("h1", { class: "title", id: "title" }, session.title),
    el("span", { class: "window", id: "window" }, `${clockTime(session.startTime)} – ${clockTime(session.endTime)}`),
    el("span", { class: `badge ${session.status}`, id: "session-status" }, SESSION_LABELS[session.status] ?? session.status),
  );
  const facilitator = el("p", { class: "facilitator", id: "facilitator" }, `Facilitator: ${session.facilitator?.name ?? "—"}`);
  const roster = el("ul", { class: "roster", id: "roster" }, ...session.roster.map((row) => rosterRow(row, staff)));
  const supervisors = el(
    "ul", { class: "supervisors", id: "supervisors" },
    ...(session.supervisors.length
      ? session.supervisors.map((s) => el("li", staff ? { "data-status": s.status } : {}, el("span", {}, s.staff.name), staff ? statusPill(s.status) : null))
      : [el("li", {}, el("span", { class: "muted" }, "No supervisor required"))]),
  );
  const side = [el("section", { class: "panel", id: "supervisors-card" }, el("h2", {}, "Supervisors"), supervisors)];
  if (staff) {
    const countBox = (id, value, label) => el("div", { id }, el("b", {}, String(value)), el("span", {}, label));
    side.push(
      el(
        "section", { class: "panel" }, el("h2", {}, "Attendance"),
        el(
          "div", { class: "counts", id: "counts" },
          countBox("count-attended", counts.attended, "present"),
          countBox("count-late", counts.late, "late"),
          countBox("count-absent", counts.absent, "absent"),
          countBox("count-scheduled", counts.scheduled, "not marked"),
        ),
      ),
      billingView(preview, session.roster),
    );
  }
  return [
    header,
    facilitator,
    el(
      "div", { class: "columns" },
      el("section", { class: "panel" }, el("h2", {}, `Roster · ${counts.total}`), roster),
      el("div", { class: "side" }, ...side),
    ),
  ];
}

// A repeated issue is one line naming its members: "3 notes unsigned: Ana R., Ben O., Cy L.".
const GROUPED = {
  NOTE_UNSIGNED: (count, message) => (message.includes("co-signature") ? `${count} notes await co-signature` : `${count} notes unsigned`),
};
const SEVERITY_ORDER = { BLOCKING: 0, WARNING: 1 };

function issueLines(issues, roster) {
  const names = new Map(roster.map((row) => [row.id, row.displayName]));
  const place = new Map(roster.map((row, index) => [row.displayName, index]));
  const groups = new Map();
  for (const issue of issues.filter((i) => !i.accepted)) {
    const key = `${issue.severity}|${issue.code}|${issue.message}`;
    if (!groups.has(key)) groups.set(key, { ...issue, count: 0, members: [] });
    const group = groups.get(key);
    group.count += 1;
    for (const id of issue.participantIds) if (names.has(id) && !group.members.includes(names.get(id))) group.members.push(names.get(id));
  }
  return [...groups.values()]
    .sort((a, b) => (SEVERITY_ORDER[a.severity] ?? 2) - (SEVERITY_ORDER[b.severity] ?? 2))
    .map((group) => {
      group.members.sort((a, b) => place.get(a) - place.get(b)); // in roster order
      const label = group.count > 1 ? (GROUPED[group.code] ?? ((n, m) => `${m} (${n}×)`))(group.count, group.message) : group.message;
      return { ...group, text: group.members.length ? `${label}: ${group.members.join(", ")}` : label };
    });
}

function billingView(preview, roster) {
  if (!preview) return el("section", { class: "panel billing", id: "billing" }, el("h2", {}, "Billing"), el("p", {}, "—"));
  const band = preview.band
    ? `${preview.band.procedureCode}${preview.band.modifiers.length ? "-" + preview.band.modifiers.join("-") : ""} (group of ${preview.band.minSize}–${preview.band.maxSize})`
    : "none";
  return el(
    "section", { class: "panel billing", id: "billing" },
    el("h2", {}, "Billing"),
    el("p", { class: `ready ${preview.readyToBill ? "yes" : "no"}`, id: "ready" }, preview.readyToBill ? "✓ Ready to bill" : "✕ Not ready to bill"),
    el("p", { id: "billable" }, `Billable: ${preview.billableCount} · Band: ${band}`),
    el(
      "ul", { class: "issues", id: "issues" },
      ...issueLines(preview.issues, roster).map((line) =>
        el("li", { class: line.severity, "data-code": line.code, "data-count": String(line.count) }, el("span", { class: "sev" }, line.severity), line.text),
      ),
    ),
    el("p", { class: "more", id: "issues-more", hidden: "" }),
  );
}

function fitIssues() {
  // Whole lines only: drop lines from the end (BLOCKING come first) until the panel holds what is
  // left, and say how many issues are not shown.
  const panel = $("billing");
  const list = $("issues");
  if (!panel || !list) return;
  const more = $("issues-more");
  const lines = [...list.children];
  lines.forEach((line) => { line.hidden = false; });
  more.hidden = true;
  let hidden = 0;
  const overflows = () => panel.scrollHeight > panel.clientHeight + 1;
  for (let i = lines.length - 1; i >= 0 && overflows(); i -= 1) {
    lines[i].hidden = true;
    hidden += Number(lines[i].dataset.count);
    more.textContent = `+${hidden} more`;
    more.hidden = false;
  }
}

window.addEventListener("resize", fitIssues);

function tick() {
  if (!status.timezone) return;
  $("clock").textContent = new Date().toLocaleTimeString("en-US", { hour: "numeric", minute: "2-digit", timeZone: status.timezone });
}

// ------------------------------------------------------------------ the page's life

async function main() {
  setInterval(tick, 15_000);
  for (;;) {
    if (!localStorage.getItem(CREDENTIAL_KEY)) await pair();
    status.messages = 0;
    await watchForever();
  }
}

main();
