import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseResetTime } from '../../src/core/ratelimit/resetTime';

// Sunday 2026-11-22 10:00 UTC = 02:00 PST (UTC-8) in Los Angeles.
const NOW = Date.UTC(2026, 10, 22, 10, 0, 0);
const LA = { defaultZone: 'America/Los_Angeles' };
const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;

function check(cases: Array<[string, number | undefined]>, now = NOW, opts: { defaultZone?: string } = LA): void {
  for (const [text, expected] of cases) {
    assert.equal(parseResetTime(text, now, opts), expected, JSON.stringify(text));
  }
}

test('Retry-After delays in seconds and with units', () => {
  check([
    ['30', NOW + 30 * SEC],
    ['0', NOW],
    ['30s', NOW + 30 * SEC],
    ['30 seconds', NOW + 30 * SEC],
    ['1.5', NOW + 1500],
    ['500ms', NOW + 500],
    ['in 2 minutes', NOW + 2 * MIN],
    ['1m30s', NOW + 90 * SEC],
    ['1 minute 30 seconds', NOW + 90 * SEC],
    ['2h, 5m and 10s', NOW + 2 * HOUR + 5 * MIN + 10 * SEC],
    ['1h', NOW + HOUR],
    ['1d', NOW + 24 * HOUR],
    ['Retry-After: 120', NOW + 120 * SEC],
    ['retry after 45', NOW + 45 * SEC],
    ['try again in 20s', NOW + 20 * SEC],
    ['Rate limited. Please wait 10 seconds.', NOW + 10 * SEC],
    ['resets in 5 hours (limit 50 requests/min)', NOW + 5 * HOUR],
  ]);
});

test('bare large integers are Unix epochs in seconds or milliseconds', () => {
  check([
    ['1700000000', 1_700_000_000_000],
    ['x-ratelimit-reset: 1764000000', 1_764_000_000_000],
    ['1700000000123', 1_700_000_000_123],
    ['1000000000', NOW + 1e12], // not above 1e9, so still a delay
  ]);
});

test('HTTP dates: IMF-fixdate, RFC 850 and asctime', () => {
  const t = Date.UTC(2015, 9, 21, 7, 28, 0);
  check([
    ['Wed, 21 Oct 2015 07:28:00 GMT', t],
    ['Retry-After: Wed, 21 Oct 2015 07:28:00 GMT', t],
    ['Wednesday, 21-Oct-15 07:28:00 GMT', t],
    ['Wed Oct 21 07:28:00 2015', t],
  ]);
});

test('ISO 8601 timestamps with Z, offsets, or the default zone', () => {
  check([
    ['2026-11-23T04:00:00Z', Date.UTC(2026, 10, 23, 4)],
    ['reset at 2026-11-23T04:00:00.250Z', Date.UTC(2026, 10, 23, 4, 0, 0, 250)],
    ['2026-11-23T04:00:00+05:30', Date.UTC(2026, 10, 22, 22, 30)],
    ['2026-11-23 04:00:00-0500', Date.UTC(2026, 10, 23, 9)],
    ['2026-11-23T04:00:00', Date.UTC(2026, 10, 23, 12)], // PST
    ['2027-07-04T04:00', Date.UTC(2027, 6, 4, 11)], // PDT
    ['2026-11-23T04:00 America/New_York', Date.UTC(2026, 10, 23, 9)],
    ['2026-11-23', Date.UTC(2026, 10, 23, 8)], // midnight PST
  ]);
});

test('human month/day text, DST-correct in Los Angeles', () => {
  // Feb 19 2026 is ~276 days before NOW, so a yearless "Feb 19" is next year's (PST, UTC-8).
  check([
    ['resets Feb 19, 6am', Date.UTC(2027, 1, 19, 14)],
    ['Feb 19 at 6:30 am', Date.UTC(2027, 1, 19, 14, 30)],
    ['February 19, 2027 6am', Date.UTC(2027, 1, 19, 14)],
    ['19 Feb 2027 18:15', Date.UTC(2027, 1, 20, 2, 15)],
    ['Jul 4, 2027 6am', Date.UTC(2027, 6, 4, 13)], // PDT, UTC-7
    ['July 4th 2027 at 6 p.m.', Date.UTC(2027, 6, 5, 1)],
    ['Dec 25', Date.UTC(2026, 11, 25, 8)], // date without time is 00:00
    ['Nov 1 UTC', Date.UTC(2026, 10, 1)], // 21 days ago: stays in this year
    ['Feb 19, 6am (Europe/Berlin)', Date.UTC(2027, 1, 19, 5)],
  ]);
});

test('a yearless date is this year unless that is more than 180 days ago', () => {
  const jan = Date.UTC(2026, 0, 10, 12); // 2026-01-10
  check(
    [
      ['Feb 19, 6am', Date.UTC(2026, 1, 19, 14)],
      ['Dec 31 UTC', Date.UTC(2026, 11, 31)], // this year's, later on
      ['Jun 1 UTC', Date.UTC(2026, 5, 1)],
    ],
    jan,
  );
  check([
    ['Jan 5 UTC', Date.UTC(2027, 0, 5)], // Nov 22 → Jan 5 rolls into next year
    ['May 20 UTC', Date.UTC(2027, 4, 20)], // 186 days ago
    ['May 30 UTC', Date.UTC(2026, 4, 30)], // 176 days ago
  ]);
});

test('times with zones and the next-occurrence rule', () => {
  check([
    ['resets 4pm (America/Los_Angeles)', Date.UTC(2026, 10, 23, 0)],
    ['4:30pm America/New_York', Date.UTC(2026, 10, 22, 21, 30)],
    ['16:00 UTC', Date.UTC(2026, 10, 22, 16)],
    ['16:00Z', Date.UTC(2026, 10, 22, 16)],
    ['16:00 GMT', Date.UTC(2026, 10, 22, 16)],
    ['4pm UTC+2', Date.UTC(2026, 10, 22, 14)],
    ['6pm GMT-05:00', Date.UTC(2026, 10, 22, 23)],
    ['6am', Date.UTC(2026, 10, 22, 14)], // LA is at 02:00, 6am is later today
    ['1am', Date.UTC(2026, 10, 23, 9)], // earlier today in LA → tomorrow
    ['9am UTC', Date.UTC(2026, 10, 23, 9)], // earlier today in UTC → tomorrow
    ['10:00 UTC', Date.UTC(2026, 10, 23, 10)], // exactly now is not "after now"
    ['10:00:01 UTC', Date.UTC(2026, 10, 22, 10, 0, 1)],
    ['12am UTC', Date.UTC(2026, 10, 23, 0)],
    ['12pm UTC', Date.UTC(2026, 10, 22, 12)],
    ['noon UTC', Date.UTC(2026, 10, 22, 12)],
    ['tomorrow 3pm UTC', Date.UTC(2026, 10, 23, 15)],
    ['3pm (Etc/GMT+5)', Date.UTC(2026, 10, 22, 20)], // POSIX sign: Etc/GMT+5 is UTC-5
  ]);
});

test('next occurrence keeps the wall-clock time across a DST change', () => {
  // 2027-03-14 is the US spring-forward day; 09:30 UTC is 01:30 PST.
  const now = Date.UTC(2027, 2, 14, 9, 30);
  check(
    [
      ['6am', Date.UTC(2027, 2, 14, 13)], // later today, already PDT
      ['1am', Date.UTC(2027, 2, 15, 8)], // tomorrow 01:00 PDT, not 24h later
    ],
    now,
  );
});

test('without defaultZone the process local zone is used', () => {
  assert.equal(parseResetTime('2027-03-01T06:00:00', NOW), new Date(2027, 2, 1, 6).getTime());
  assert.equal(parseResetTime('March 1, 2027 6am', NOW), new Date(2027, 2, 1, 6).getTime());
  assert.equal(parseResetTime('16:00 UTC', NOW), Date.UTC(2026, 10, 22, 16));
});

test('invalid zones give undefined rather than a wrong time', () => {
  check([
    ['resets 4pm (Mars/Olympus_Mons)', undefined],
    ['4:30pm America/Nowhere', undefined],
    ['2026-11-23T04:00 Europe/Atlantis', undefined],
  ]);
  assert.equal(parseResetTime('4pm', NOW, { defaultZone: 'Not/AZone' }), undefined);
  assert.equal(parseResetTime('Feb 19, 6am', NOW, { defaultZone: 'garbage' }), undefined);
  // Explicit instants do not depend on the default zone.
  assert.equal(parseResetTime('30s', NOW, { defaultZone: 'garbage' }), NOW + 30 * SEC);
});

test('text without a usable time gives undefined', () => {
  check([
    ['', undefined],
    ['   ', undefined],
    ['hello world', undefined],
    ['rate limit exceeded', undefined],
    ['UTC', undefined],
    ['(America/Los_Angeles)', undefined],
    ['Feb', undefined],
    ['in a while', undefined],
    ['in 1 month', undefined],
    ['-30', undefined],
    ['25:00 UTC', undefined],
    ['13pm', undefined],
    ['Feb 30, 2027 6am', undefined],
    ['99999999999999999999', undefined],
  ]);
});

test('never throws; returns undefined or a finite number for arbitrary text', () => {
  const tokens = fc.constantFrom(
    'Feb',
    '19',
    '2027',
    ',',
    ' ',
    ':',
    '6am',
    '4:30',
    'pm',
    'UTC',
    'GMT+',
    'Z',
    '(America/Los_Angeles)',
    '(Mars/Base)',
    'Etc/GMT-14',
    'in',
    '30s',
    '1m',
    'Retry-After:',
    '2026-11-23T',
    '04:00',
    '+05:30',
    'Wed, 21 Oct 2015 07:28:00 GMT',
    'tomorrow',
    'noon',
    '1700000000',
    '.',
    '-',
    '99999999999',
  );
  const text = fc.oneof(
    fc.string(),
    fc.string({ unit: 'grapheme' }),
    fc.string({ unit: 'binary' }),
    fc.array(tokens, { maxLength: 12 }).map((parts) => parts.join('')),
    fc.array(tokens, { maxLength: 12 }).map((parts) => parts.join(' ')),
  );
  const now = fc.oneof(fc.constant(NOW), fc.integer({ min: -8.64e15, max: 8.64e15 }), fc.double());
  const zone = fc.option(fc.constantFrom('America/Los_Angeles', 'UTC', 'Asia/Kolkata', 'nope', ''), { nil: undefined });
  fc.assert(
    fc.property(text, now, zone, (t, n, z) => {
      const r = parseResetTime(t, n, z === undefined ? undefined : { defaultZone: z });
      return r === undefined || (typeof r === 'number' && Number.isFinite(r));
    }),
    { numRuns: 2000 },
  );
});
