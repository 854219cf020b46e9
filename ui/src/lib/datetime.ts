/**
 * Time zone arithmetic with the platform's Intl data only (no date library in the bundle).
 *
 * "Wall time" is what a person reads on a clock in a zone: "2026-12-01T09:00". The form edits wall
 * time in the task's zone; the API receives it with the zone's offset at that instant
 * ("2026-12-01T09:00:00+01:00"), so the server stores exactly the instant the user meant.
 */

export interface WallTime {
  year: number;
  month: number; // 1..12
  day: number;
  hour: number;
  minute: number;
}

const dtfCache = new Map<string, Intl.DateTimeFormat>();

function partsFormatter(timeZone: string): Intl.DateTimeFormat {
  let f = dtfCache.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    dtfCache.set(timeZone, f);
  }
  return f;
}

export function browserTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

export function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** IANA zones the browser knows, for the zone picker. */
export function timeZoneList(): string[] {
  const intl = Intl as typeof Intl & { supportedValuesOf?: (key: string) => string[] };
  const zones = intl.supportedValuesOf?.("timeZone") ?? [];
  const set = new Set(zones);
  set.add("UTC");
  set.add(browserTimeZone());
  return Array.from(set).sort();
}

/** Wall time at `instant` in `timeZone`. */
export function toWallTime(instant: Date, timeZone: string): WallTime {
  const parts = partsFormatter(timeZone).formatToParts(instant);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? "0");
  return {
    year: get("year"),
    month: get("month"),
    day: get("day"),
    hour: get("hour") % 24,
    minute: get("minute"),
  };
}

/** Offset of `timeZone` from UTC at `instant`, in minutes (east positive). */
export function zoneOffsetMinutes(instant: Date, timeZone: string): number {
  const w = toWallTime(instant, timeZone);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute);
  const truncated = Math.floor(instant.getTime() / 60000) * 60000;
  return Math.round((asUtc - truncated) / 60000);
}

/**
 * The instant at which clocks in `timeZone` show `wall`. In a DST gap (a wall time that does not
 * exist) the later offset wins, as clocks do; in an overlap the earlier instant wins.
 */
export function fromWallTime(wall: WallTime, timeZone: string): Date {
  const naive = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute);
  const first = zoneOffsetMinutes(new Date(naive), timeZone);
  let candidate = naive - first * 60000;
  const second = zoneOffsetMinutes(new Date(candidate), timeZone);
  if (second !== first) {
    const alt = naive - second * 60000;
    // Prefer the candidate whose wall time round-trips; else the later one (a gap).
    const roundTrips = (t: number) => sameWall(toWallTime(new Date(t), timeZone), wall);
    if (roundTrips(alt) && !roundTrips(candidate)) candidate = alt;
    else if (!roundTrips(alt) && !roundTrips(candidate)) candidate = Math.max(alt, candidate);
    else if (roundTrips(alt) && roundTrips(candidate)) candidate = Math.min(alt, candidate);
  }
  return new Date(candidate);
}

function sameWall(a: WallTime, b: WallTime): boolean {
  return (
    a.year === b.year && a.month === b.month && a.day === b.day && a.hour === b.hour && a.minute === b.minute
  );
}

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

/** "YYYY-MM-DDTHH:mm", the value format of <input type="datetime-local">. */
export function formatWallInput(w: WallTime): string {
  return `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)}T${pad(w.hour)}:${pad(w.minute)}`;
}

export function parseWallInput(value: string): WallTime | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::\d{2}(?:\.\d+)?)?$/.exec(value.trim());
  if (!m) return null;
  const [year, month, day, hour, minute] = m.slice(1).map(Number) as [number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59) return null;
  return { year, month, day, hour, minute };
}

/** API datetime (RFC 3339) -> datetime-local value in `timeZone`. */
export function isoToInput(iso: string | null, timeZone: string): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  return formatWallInput(toWallTime(d, timeZone));
}

function formatOffset(minutes: number): string {
  const sign = minutes < 0 ? "-" : "+";
  const abs = Math.abs(minutes);
  return `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/**
 * datetime-local value in `timeZone` -> RFC 3339 with that zone's offset, e.g.
 * "2026-12-01T09:00:00+01:00". Returns null for an empty or malformed value.
 */
export function inputToIso(value: string, timeZone: string): string | null {
  const wall = parseWallInput(value);
  if (!wall) return null;
  const instant = fromWallTime(wall, timeZone);
  const actual = toWallTime(instant, timeZone);
  const offset = zoneOffsetMinutes(instant, timeZone);
  return `${formatWallInput(actual)}:00${formatOffset(offset)}`;
}

/** Instant + minutes, as RFC 3339 in `timeZone`'s offset. */
export function shiftIso(iso: string, minutes: number, timeZone: string): string {
  const d = new Date(new Date(iso).getTime() + minutes * 60000);
  return `${formatWallInput(toWallTime(d, timeZone))}:00${formatOffset(zoneOffsetMinutes(d, timeZone))}`;
}

const displayCache = new Map<string, Intl.DateTimeFormat>();

/** A due date as people read it, in the viewer's zone (or `timeZone`). */
export function formatDateTime(iso: string, timeZone?: string): string {
  const key = timeZone ?? "";
  let f = displayCache.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(undefined, {
      timeZone,
      weekday: "short",
      month: "short",
      day: "numeric",
      year: "numeric",
      hour: "numeric",
      minute: "2-digit",
    });
    displayCache.set(key, f);
  }
  return f.format(new Date(iso));
}

const rtf = typeof Intl !== "undefined" ? new Intl.RelativeTimeFormat(undefined, { numeric: "auto" }) : null;

/** "in 3 hours", "2 days ago". */
export function formatRelative(iso: string, now: number = Date.now()): string {
  const diff = new Date(iso).getTime() - now;
  const abs = Math.abs(diff);
  const units: [Intl.RelativeTimeFormatUnit, number][] = [
    ["day", 86400000],
    ["hour", 3600000],
    ["minute", 60000],
  ];
  for (const [unit, ms] of units) {
    if (abs >= ms || unit === "minute") {
      const value = Math.round(diff / ms);
      return rtf ? rtf.format(value, unit) : `${value} ${unit}s`;
    }
  }
  return "";
}

export type DueState = "overdue" | "soon" | "later" | "none";

/** Overdue: past due and not done. Due soon: within the next 24 hours. */
export function dueState(dueIso: string | null, completed: boolean, now: number = Date.now()): DueState {
  if (!dueIso || completed) return "none";
  const t = new Date(dueIso).getTime();
  if (t < now) return "overdue";
  if (t - now <= 24 * 3600000) return "soon";
  return "later";
}
