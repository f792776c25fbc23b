// Parse an iCalendar feed from stdin with ical.js (Thunderbird's parser) and print its events as JSON.
// Used by tests/contract/test_feed_ical_parsers.py and tests/e2e as a parser independent of the
// Python code that wrote the feed.
import ICAL from "ical.js";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const text = Buffer.concat(chunks).toString("utf8");

// ICAL.parse throws on any syntax error: that failure is the test's signal, so no try/catch.
const calendar = new ICAL.Component(ICAL.parse(text));

// Register the feed's own VTIMEZONEs; a TZID left unresolved would make its times floating.
const tzids = [];
for (const vtimezone of calendar.getAllSubcomponents("vtimezone")) {
  const zone = new ICAL.Timezone(vtimezone);
  ICAL.TimezoneService.register(zone);
  tzids.push(zone.tzid);
}

function instant(time) {
  // A floating time would silently follow this process's TZ: refuse it instead.
  if (time.zone === ICAL.Timezone.localTimezone) throw new Error(`floating time ${time}`);
  return time.toJSDate().toISOString().replace(".000Z", "Z");
}

const events = calendar.getAllSubcomponents("vevent").map((vevent) => {
  const event = new ICAL.Event(vevent);
  return {
    uid: event.uid,
    status: vevent.getFirstPropertyValue("status"),
    sequence: event.sequence,
    summary: event.summary,
    location: event.location,
    description: event.description,
    tzid: event.startDate.zone.tzid,
    start: instant(event.startDate),
    end: instant(event.endDate),
    url: vevent.getFirstPropertyValue("url"),
  };
});

process.stdout.write(
  JSON.stringify({
    uid: calendar.getFirstPropertyValue("uid"),
    name: calendar.getFirstPropertyValue("x-wr-calname"),
    timezones: tzids,
    events,
  }),
);
