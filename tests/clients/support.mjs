// What every client test shares: the scenario pytest prepared, tokens, and a plain POST for set-up.
import { createHmac } from "node:crypto";

/** Set by tests/support/node.py: the live server's URL, the signing secret, scopes and the ids made for the test. */
export const scenario = JSON.parse(process.env.GS_SCENARIO ?? "{}");

function base64url(value) {
  return Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");
}

/** An HS256 bearer token as the clinic's identity provider would mint it. */
export function mintToken({ ttl = 3600, subject = "node-client", scopes = scenario.scopes, facilities = ["*"] } = {}) {
  const now = Math.floor(Date.now() / 1000);
  const header = base64url({ alg: "HS256", typ: "JWT" });
  const claims = base64url({ sub: subject, scopes, facilities, iat: now, exp: now + ttl });
  const signature = createHmac("sha256", scenario.secret).update(`${header}.${claims}`).digest("base64url");
  return `${header}.${claims}.${signature}`;
}

/** One POST outside the client under test (arranging a change while a subscription watches). */
export async function post(query, variables = {}, token = mintToken()) {
  const response = await fetch(scenario.url, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors) throw new Error(`${query}: ${JSON.stringify(body.errors)}`);
  return body.data;
}

export const SET_ATTENDANCE = `
  mutation SetAttendance($participantId: ID!, $status: AttendanceStatus!, $expectedStatus: AttendanceStatus) {
    setAttendance(participantId: $participantId, status: $status, expectedStatus: $expectedStatus) { id status }
  }`;

export const SESSION_UPDATES = `
  subscription SessionUpdates($sessionId: ID!) {
    sessionUpdates(sessionId: $sessionId) { kind sequence changedParticipantIds session { title } }
  }`;

/** Resolves with the first value `next` hands over that satisfies `test`, or rejects after `ms`. */
export function waitFor(description, ms = 30_000) {
  let settle;
  const waiting = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${description}`)), ms);
    settle = (value) => {
      clearTimeout(timer);
      resolve(value);
    };
  });
  return { waiting, settle };
}
