/**
 * Turns whatever a rate-limited API said about "when can I retry" into an epoch-ms instant.
 * Inputs are free text captured by a user-supplied regex, so each parser searches the text
 * rather than requiring an exact format, and anything unrecognized yields undefined: a wrong
 * reset time (sleeping hours too long or hammering the API) is worse than no reset time.
 */
import { DateTime, Duration } from 'luxon';

export interface ParseResetTimeOptions {
  /** IANA zone for times that name none; the process's local zone if omitted. */
  defaultZone?: string;
}

interface WallTime {
  hour: number;
  minute: number;
  second: number;
}

const DAY_MS = 86_400_000;
// Captured text is short; capping it bounds the cost of the regexes on pathological input.
const MAX_TEXT = 1000;
// Beyond this JS Dates are invalid, so such a "time" cannot be acted on.
const MAX_EPOCH_MS = 8.64e15;

const MONTH =
  '(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\\.?';
const MONTH_DAY_RE = new RegExp(`\\b${MONTH}[\\s-]+(\\d{1,2})(?:st|nd|rd|th)?\\b(?:,?[\\s-]+(\\d{4})\\b)?`, 'i');
const DAY_MONTH_RE = new RegExp(`\\b(\\d{1,2})(?:st|nd|rd|th)?[\\s-]+${MONTH}(?![a-z])(?:,?[\\s-]+(\\d{4})\\b)?`, 'i');
const TIME_12H_RE = /\b(\d{1,2})(?::(\d{2}))?(?::(\d{2}))?\s*([ap])\.?m\b\.?/i;
const TIME_24H_RE = /\b(\d{1,2}):(\d{2})(?::(\d{2}))?\b/;
const UNIT = '(ms|milliseconds?|s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?)(?![a-z])';
const DURATION = `(?:\\d+(?:\\.\\d+)?\\s*${UNIT}\\s*(?:(?:,|and)\\s*)?)+`;
const HTTP_DATE_RE = new RegExp(
  [
    /(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT/.source,
    /(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day, \d\d-[A-Z][a-z]{2}-\d\d \d\d:\d\d:\d\d GMT/.source,
    /(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}/.source,
  ].join('|'),
);
const ISO_RE = /\b(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)(\s?(?:Z|[+-]\d{2}(?::?\d{2})?))?)?(?![\d:])/;
// Area-restricted so that "requests/min" is not mistaken for a zone; parenthesized a/b is
// taken as a zone attempt regardless, so "(Mars/Base)" fails loudly instead of being ignored.
const IANA_RE =
  /\(([^()\s/]+(?:\/[^()\s/]+)+)\)|\b((?:Africa|America|Antarctica|Arctic|Asia|Atlantic|Australia|Europe|Indian|Pacific|Etc|US|Canada|Brazil|Mexico|Chile)(?:\/[A-Za-z0-9_+-]+)+)/;
// Case-sensitive so a stray lowercase "z" is not read as Zulu time.
const UTC_RE = /(?<![A-Za-z])(?:UTC|GMT|utc|gmt)(?:([+-])(\d{1,2})(?::?(\d{2}))?)?(?![A-Za-z])|(?<=\d|\s|^)Z(?![A-Za-z])/;

/** Parses the reset time a rate-limited API reported; returns epoch ms, or undefined if the text holds no time. Never throws. */
export function parseResetTime(text: string, nowMs: number, opts?: ParseResetTimeOptions): number | undefined {
  try {
    if (typeof text !== 'string' || !Number.isFinite(nowMs)) return undefined;
    const s = text.slice(0, MAX_TEXT).trim();
    const ms = parseHttpDate(s) ?? parseIso(s, nowMs, opts) ?? parseRelative(s, nowMs) ?? parseHuman(s, nowMs, opts);
    return ms !== undefined && Number.isFinite(ms) && Math.abs(ms) <= MAX_EPOCH_MS ? ms : undefined;
  } catch {
    // Callers use this inside retry loops; a parser bug must degrade to "unknown", not crash a run.
    return undefined;
  }
}

function parseHttpDate(s: string): number | undefined {
  const m = HTTP_DATE_RE.exec(s);
  if (!m) return undefined;
  const dt = DateTime.fromHTTP(m[0]);
  return dt.isValid ? dt.toMillis() : undefined;
}

function parseIso(s: string, nowMs: number, opts?: ParseResetTimeOptions): number | undefined {
  const m = ISO_RE.exec(s);
  if (!m) return undefined;
  const [whole, date, time, offset] = m;
  let zone: string | undefined = 'UTC';
  if (!offset) {
    zone = extractZone(blank(s, m.index, whole.length), opts).zone;
    if (zone === undefined || !validZone(zone, nowMs)) return undefined;
  }
  const iso = `${date}${time ? `T${time}` : ''}${offset ? offset.trim() : ''}`;
  const dt = DateTime.fromISO(iso, { zone });
  return dt.isValid ? dt.toMillis() : undefined;
}

/** Retry-After style: a delay from now, or an epoch number (x-ratelimit-reset style). */
function parseRelative(s: string, nowMs: number): number | undefined {
  // Only a header label may precede a bare number; otherwise "19" in "Feb 19" would qualify.
  const body = s.replace(/^(?:[A-Za-z][\w-]*\s*[:=]|retry[- ]after\b:?)\s*/i, '').replace(/[\s.!;]+$/, '');
  const bare = /^\d+(?:\.\d+)?$/.test(body) ? Number(body) : undefined;
  if (bare !== undefined) {
    if (bare > 1e12) return Math.round(bare);
    if (bare > 1e9) return Math.round(bare * 1000);
    return nowMs + Math.round(bare * 1000);
  }
  const whole = new RegExp(`^(?:in\\s+)?(${DURATION})$`, 'i').exec(body);
  const inline = whole ?? new RegExp(`\\b(?:in|after|wait|for)\\s+(${DURATION})`, 'i').exec(s);
  const delay = inline?.[1] ? durationMs(inline[1]) : undefined;
  return delay === undefined ? undefined : nowMs + delay;
}

function durationMs(text: string): number | undefined {
  const parts = [...text.matchAll(new RegExp(`(\\d+(?:\\.\\d+)?)\\s*${UNIT}`, 'gi'))];
  if (parts.length === 0) return undefined;
  let total = Duration.fromMillis(0);
  for (const [, n, unit = ''] of parts) {
    const u = unit.toLowerCase();
    const key =
      u.startsWith('ms') || u.startsWith('milli')
        ? 'milliseconds'
        : u.startsWith('s')
          ? 'seconds'
          : u.startsWith('m')
            ? 'minutes'
            : u.startsWith('h')
              ? 'hours'
              : 'days';
    total = total.plus({ [key]: Number(n) });
  }
  return Math.round(total.toMillis());
}

/** Month/day, wall-clock time and zone, each optional, found anywhere in the text. */
function parseHuman(s: string, nowMs: number, opts?: ParseResetTimeOptions): number | undefined {
  const { zone, rest } = extractZone(s, opts);
  if (zone === undefined || !validZone(zone, nowMs)) return undefined;
  const date = extractDate(rest);
  const time = extractTime(date ? date.rest : rest);
  if (time === null) return undefined;
  if (!date && !time && !/\b(?:tomorrow|noon|midnight)\b/i.test(rest)) return undefined;
  const now = DateTime.fromMillis(nowMs, { zone });
  const wall = time ?? namedTime(rest) ?? { hour: 0, minute: 0, second: 0 };
  if (date) {
    const at = (year: number) => DateTime.fromObject({ year, month: date.month, day: date.day, ...wall }, { zone });
    let dt = at(date.year ?? now.year);
    // A yearless date far in the past almost certainly means next year's (Dec → Jan rollover).
    if (date.year === undefined && dt.isValid && dt.toMillis() < nowMs - 180 * DAY_MS) dt = at(now.year + 1);
    return dt.isValid ? dt.toMillis() : undefined;
  }
  const today = now.set({ ...wall, millisecond: 0 });
  if (/\btomorrow\b/i.test(rest)) return today.plus({ days: 1 }).set(wall).toMillis();
  // plus({days}) keeps the wall-clock time across DST changes, unlike adding 24h.
  return today.toMillis() > nowMs ? today.toMillis() : today.plus({ days: 1 }).set(wall).toMillis();
}

/** Returns the zone the text names (or the default) and the text with that zone removed. */
function extractZone(s: string, opts?: ParseResetTimeOptions): { zone: string | undefined; rest: string } {
  const iana = IANA_RE.exec(s);
  if (iana) return { zone: iana[1] ?? iana[2], rest: blank(s, iana.index, iana[0].length) };
  const utc = UTC_RE.exec(s);
  if (utc) {
    const [whole, sign, h, mm] = utc;
    const zone = sign && h ? `UTC${sign}${h}${mm ? `:${mm}` : ''}` : 'UTC';
    return { zone, rest: blank(s, utc.index, whole.length) };
  }
  return { zone: opts?.defaultZone ?? 'system', rest: s };
}

function validZone(zone: string, nowMs: number): boolean {
  return DateTime.fromMillis(nowMs, { zone }).isValid;
}

function extractDate(s: string): { month: number; day: number; year?: number; rest: string } | undefined {
  const md = MONTH_DAY_RE.exec(s);
  const dm = md ? null : DAY_MONTH_RE.exec(s);
  const m = md ?? dm;
  if (!m) return undefined;
  const [monthText, dayText, yearText] = md ? [m[1], m[2], m[3]] : [m[2], m[1], m[3]];
  const month = monthIndex(monthText ?? '');
  return { month, day: Number(dayText), year: yearText ? Number(yearText) : undefined, rest: blank(s, m.index, m[0].length) };
}

function monthIndex(name: string): number {
  return ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'].indexOf(name.slice(0, 3).toLowerCase()) + 1;
}

/** undefined: no time in the text; null: something time-shaped but impossible ("25:00", "13pm"). */
function extractTime(s: string): WallTime | undefined | null {
  const twelve = TIME_12H_RE.exec(s);
  const m = twelve ?? TIME_24H_RE.exec(s);
  if (!m) return undefined;
  let hour = Number(m[1]);
  const minute = Number(m[2] ?? 0);
  const second = Number(m[3] ?? 0);
  if (twelve) {
    if (hour < 1 || hour > 12) return null;
    hour = (hour % 12) + (m[4]?.toLowerCase() === 'p' ? 12 : 0);
  }
  return hour <= 23 && minute <= 59 && second <= 59 ? { hour, minute, second } : null;
}

function namedTime(s: string): WallTime | undefined {
  if (/\bnoon\b/i.test(s)) return { hour: 12, minute: 0, second: 0 };
  if (/\bmidnight\b/i.test(s)) return { hour: 0, minute: 0, second: 0 };
  return undefined;
}

/** Replaces a matched span with spaces so later searches cannot re-read its digits. */
function blank(s: string, index: number, length: number): string {
  return s.slice(0, index) + ' '.repeat(length) + s.slice(index + length);
}
