// The GraphQL-over-HTTP audit (graphql-http's serverAudits) against the live endpoint, with a
// bearer token on every request: every audit must pass, no error and no warning.
import assert from "node:assert/strict";
import { test } from "node:test";

import { serverAudits } from "graphql-http";

import { mintToken, scenario } from "./support.mjs";

test("graphql-http serverAudits: every audit ok", async () => {
  const token = mintToken();
  const fetchFn = (url, init = {}) =>
    fetch(url, { ...init, headers: { ...init.headers, Authorization: `Bearer ${token}` } });
  const results = await Promise.all(serverAudits({ url: scenario.url, fetchFn }).map(({ fn }) => fn()));
  const notOk = results.filter((result) => result.status !== "ok");
  const count = (status) => results.filter((result) => result.status === status).length;
  console.log(`audits: ${results.length}, ok: ${count("ok")}, warnings: ${count("warn")}, errors: ${count("error")}`);
  for (const result of notOk) {
    const body = result.response ? await result.response.text().catch(() => "") : "";
    console.log(`${result.status} ${result.id} ${result.name}: ${result.reason}\n  ${result.response?.status} ${body}`);
  }
  assert.ok(results.length >= 60, `only ${results.length} audits ran`);
  assert.deepEqual(notOk.map((result) => `${result.id} ${result.name}`), []);
});
