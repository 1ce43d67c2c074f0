// Calendar feeds as ical.js reads them (Thunderbird and many web calendars): each event's instant is
// worked out from the feed's own VTIMEZONE, the way those apps do it; tests/test_calendar_feeds.py
// hands over the feeds it fetched and the UTC instant each event must land on.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import ICAL from "ical.js";

import { scenario } from "./support.mjs";

for (const feed of scenario.feeds) {
  test(`${feed.name}: every event at its instant, in the feed's own time zone`, () => {
    const calendar = new ICAL.Component(ICAL.parse(readFileSync(feed.path, "utf8")));
    const placed = {};
    for (const vevent of calendar.getAllSubcomponents("vevent")) {
      const event = new ICAL.Event(vevent);
      placed[event.uid] = {
        zone: event.startDate.zone.tzid,
        start: event.startDate.toJSDate().toISOString(),
        end: event.endDate.toJSDate().toISOString(),
      };
    }
    assert.deepEqual(placed, feed.expected);
  });
}
