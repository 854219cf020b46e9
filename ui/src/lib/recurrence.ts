/**
 * Recurrence rules as the form builds them: the presets ("daily", ...) and the subset of RFC 5545 RRULE
 * the builder can express (FREQ, INTERVAL, BYDAY with ordinals, BYMONTHDAY, COUNT, UNTIL).
 * Anything else is kept verbatim as an "advanced" rule: the server is the authority on expansion; the
 * preview here is a courtesy and is computed in wall-clock time, as the server expands in the task's zone.
 */
import type { WallTime } from "./datetime";

export type Frequency = "DAILY" | "WEEKLY" | "MONTHLY" | "YEARLY";
export const WEEKDAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"] as const;
export type Weekday = (typeof WEEKDAYS)[number];
export const PRESETS = ["daily", "weekly", "monthly", "yearly"] as const;
export type Preset = (typeof PRESETS)[number];

export interface RuleSpec {
  freq: Frequency;
  interval: number;
  /** WEEKLY: the days of the week. */
  byDay: Weekday[];
  /** MONTHLY: "day" = on day N of the month; "weekday" = on the Nth <weekday>. */
  monthlyMode: "day" | "weekday";
  monthDay: number; // 1..31 or -1 (last day)
  ordinal: number; // 1..4 or -1 (last)
  ordinalDay: Weekday;
  end: "never" | "count" | "until";
  count: number;
  until: string; // YYYY-MM-DD
}

export function defaultSpec(start?: WallTime): RuleSpec {
  const wd = start ? weekdayOf(start.year, start.month, start.day) : "MO";
  const day = start?.day ?? 1;
  return {
    freq: "WEEKLY",
    interval: 1,
    byDay: [wd],
    monthlyMode: "day",
    monthDay: day,
    ordinal: Math.min(4, Math.ceil(day / 7)),
    ordinalDay: wd,
    end: "never",
    count: 10,
    until: "",
  };
}

export function isPreset(rule: string): rule is Preset {
  return (PRESETS as readonly string[]).includes(rule.trim().toLowerCase());
}

export function buildRule(spec: RuleSpec): string {
  const parts = [`FREQ=${spec.freq}`];
  if (spec.interval > 1) parts.push(`INTERVAL=${spec.interval}`);
  if (spec.freq === "WEEKLY" && spec.byDay.length > 0) {
    const days = WEEKDAYS.filter((d) => spec.byDay.includes(d));
    parts.push(`BYDAY=${days.join(",")}`);
  }
  if (spec.freq === "MONTHLY") {
    if (spec.monthlyMode === "day") parts.push(`BYMONTHDAY=${spec.monthDay}`);
    else parts.push(`BYDAY=${spec.ordinal}${spec.ordinalDay}`);
  }
  if (spec.end === "count") parts.push(`COUNT=${Math.max(1, spec.count)}`);
  if (spec.end === "until" && /^\d{4}-\d{2}-\d{2}$/.test(spec.until)) {
    parts.push(`UNTIL=${spec.until.replaceAll("-", "")}T235959Z`);
  }
  return parts.join(";");
}

/** The builder's view of a rule, or null when the builder cannot represent it (kept as advanced text). */
export function parseRule(rule: string, start?: WallTime): RuleSpec | null {
  const text = rule.trim().replace(/^RRULE:/i, "");
  const preset = text.toLowerCase();
  const spec = defaultSpec(start);
  if (isPreset(preset)) {
    spec.freq = preset.toUpperCase() as Frequency;
    if (spec.freq === "WEEKLY") spec.byDay = start ? [weekdayOf(start.year, start.month, start.day)] : [];
    return spec;
  }
  const fields = new Map<string, string>();
  for (const part of text.split(";")) {
    const [k, v] = part.split("=");
    if (!k || v === undefined) return null;
    fields.set(k.trim().toUpperCase(), v.trim().toUpperCase());
  }
  const freq = fields.get("FREQ");
  if (freq !== "DAILY" && freq !== "WEEKLY" && freq !== "MONTHLY" && freq !== "YEARLY") return null;
  spec.freq = freq;
  for (const key of fields.keys()) {
    if (!["FREQ", "INTERVAL", "BYDAY", "BYMONTHDAY", "COUNT", "UNTIL", "WKST"].includes(key)) return null;
  }
  const interval = fields.get("INTERVAL");
  if (interval !== undefined) {
    const n = Number(interval);
    if (!Number.isInteger(n) || n < 1) return null;
    spec.interval = n;
  }
  const byDay = fields.get("BYDAY");
  const byMonthDay = fields.get("BYMONTHDAY");
  if (freq === "DAILY" || freq === "YEARLY") {
    if (byDay !== undefined || byMonthDay !== undefined) return null;
  }
  if (freq === "WEEKLY") {
    if (byMonthDay !== undefined) return null;
    if (byDay !== undefined) {
      const days = byDay.split(",");
      if (!days.every((d): d is Weekday => (WEEKDAYS as readonly string[]).includes(d))) return null;
      spec.byDay = days as Weekday[];
    }
  }
  if (freq === "MONTHLY") {
    if (byDay !== undefined && byMonthDay !== undefined) return null;
    if (byMonthDay !== undefined) {
      const n = Number(byMonthDay);
      if (!Number.isInteger(n) || n === 0 || n < -1 || n > 31) return null;
      spec.monthlyMode = "day";
      spec.monthDay = n;
    } else if (byDay !== undefined) {
      const m = /^(-1|[1-4])(MO|TU|WE|TH|FR|SA|SU)$/.exec(byDay);
      if (!m) return null;
      spec.monthlyMode = "weekday";
      spec.ordinal = Number(m[1]);
      spec.ordinalDay = m[2] as Weekday;
    }
  }
  const count = fields.get("COUNT");
  const until = fields.get("UNTIL");
  if (count !== undefined && until !== undefined) return null;
  if (count !== undefined) {
    const n = Number(count);
    if (!Number.isInteger(n) || n < 1) return null;
    spec.end = "count";
    spec.count = n;
  }
  if (until !== undefined) {
    const m = /^(\d{4})(\d{2})(\d{2})/.exec(until);
    if (!m) return null;
    spec.end = "until";
    spec.until = `${m[1]}-${m[2]}-${m[3]}`;
  }
  return spec;
}

// ---- calendar helpers (proleptic Gregorian, no time zones: wall-clock dates) ----

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** Monday = 0 .. Sunday = 6 */
function weekdayIndex(year: number, month: number, day: number): number {
  return (new Date(Date.UTC(year, month - 1, day)).getUTCDay() + 6) % 7;
}

export function weekdayOf(year: number, month: number, day: number): Weekday {
  return WEEKDAYS[weekdayIndex(year, month, day)] ?? "MO";
}

function addDays(w: WallTime, days: number): WallTime {
  const d = new Date(Date.UTC(w.year, w.month - 1, w.day + days));
  return { ...w, year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

function key(w: WallTime): number {
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute);
}

/** Day of month for the Nth weekday (ordinal -1 = last), or null if that month has none. */
function nthWeekday(year: number, month: number, ordinal: number, weekday: Weekday): number | null {
  const target = WEEKDAYS.indexOf(weekday);
  const dim = daysInMonth(year, month);
  if (ordinal > 0) {
    const first = weekdayIndex(year, month, 1);
    const day = 1 + ((target - first + 7) % 7) + (ordinal - 1) * 7;
    return day <= dim ? day : null;
  }
  const last = weekdayIndex(year, month, dim);
  return dim - ((last - target + 7) % 7);
}

/**
 * Occurrences from `start` (the first due date, which counts as occurrence 1 when it matches the rule),
 * at most `limit`, in wall-clock time. Bounded work whatever the rule.
 */
export function expand(spec: RuleSpec, start: WallTime, limit: number): WallTime[] {
  const out: WallTime[] = [];
  const maxTotal = spec.end === "count" ? Math.min(limit, spec.count) : limit;
  const untilKey =
    spec.end === "until" && spec.until
      ? Date.UTC(Number(spec.until.slice(0, 4)), Number(spec.until.slice(5, 7)) - 1, Number(spec.until.slice(8, 10)), 23, 59)
      : Infinity;
  const startKey = key(start);
  const push = (w: WallTime): boolean => {
    const k = key(w);
    if (k < startKey) return true;
    if (k > untilKey) return false;
    out.push(w);
    return out.length < maxTotal;
  };
  const interval = Math.max(1, spec.interval);
  for (let period = 0; period < 2000; period++) {
    let keepGoing = true;
    if (spec.freq === "DAILY") {
      keepGoing = push(addDays(start, period * interval));
    } else if (spec.freq === "WEEKLY") {
      const monday = addDays(start, -weekdayIndex(start.year, start.month, start.day) + period * interval * 7);
      const days = spec.byDay.length ? spec.byDay : [weekdayOf(start.year, start.month, start.day)];
      for (const d of WEEKDAYS) {
        if (!days.includes(d)) continue;
        keepGoing = push(addDays(monday, WEEKDAYS.indexOf(d)));
        if (!keepGoing) break;
      }
    } else if (spec.freq === "MONTHLY") {
      const m0 = start.month - 1 + period * interval;
      const year = start.year + Math.floor(m0 / 12);
      const month = (m0 % 12) + 1;
      let day: number | null;
      if (spec.monthlyMode === "weekday") day = nthWeekday(year, month, spec.ordinal, spec.ordinalDay);
      else {
        const dim = daysInMonth(year, month);
        const want = spec.monthDay === -1 ? dim : spec.monthDay;
        day = want <= dim ? want : null; // RFC 5545: a month without that day is skipped
      }
      if (day !== null) keepGoing = push({ ...start, year, month, day });
    } else {
      const year = start.year + period * interval;
      if (start.day <= daysInMonth(year, start.month)) keepGoing = push({ ...start, year });
    }
    if (!keepGoing) break;
  }
  return out;
}

const DAY_NAMES: Record<Weekday, string> = {
  MO: "Monday",
  TU: "Tuesday",
  WE: "Wednesday",
  TH: "Thursday",
  FR: "Friday",
  SA: "Saturday",
  SU: "Sunday",
};
const ORDINALS: Record<string, string> = { "1": "first", "2": "second", "3": "third", "4": "fourth", "-1": "last" };

function ordinalDay(n: number): string {
  if (n === -1) return "last day";
  const s = n % 100 >= 11 && n % 100 <= 13 ? "th" : ({ 1: "st", 2: "nd", 3: "rd" } as Record<number, string>)[n % 10] ?? "th";
  return `${n}${s}`;
}

function listWords(items: string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}

/** "Every 2 weeks on Monday and Wednesday, 5 times". */
export function describe(spec: RuleSpec): string {
  const unit = { DAILY: "day", WEEKLY: "week", MONTHLY: "month", YEARLY: "year" }[spec.freq];
  let text = spec.interval > 1 ? `Every ${spec.interval} ${unit}s` : `Every ${unit}`;
  if (spec.freq === "WEEKLY" && spec.byDay.length) {
    const days = WEEKDAYS.filter((d) => spec.byDay.includes(d));
    const weekdays: Weekday[] = ["MO", "TU", "WE", "TH", "FR"];
    text += days.length === 5 && weekdays.every((d) => days.includes(d)) ? " on weekdays" : ` on ${listWords(days.map((d) => DAY_NAMES[d]))}`;
  }
  if (spec.freq === "MONTHLY") {
    text +=
      spec.monthlyMode === "day"
        ? ` on the ${ordinalDay(spec.monthDay)}`
        : ` on the ${ORDINALS[String(spec.ordinal)] ?? spec.ordinal} ${DAY_NAMES[spec.ordinalDay]}`;
  }
  if (spec.end === "count") text += spec.count === 1 ? ", once" : `, ${spec.count} times`;
  if (spec.end === "until" && spec.until) text += `, until ${spec.until}`;
  return text;
}

/** Human text for any stored rule (preset, builder rule, or advanced RRULE shown as is). */
export function describeRule(rule: string | null): string {
  if (!rule) return "";
  const spec = parseRule(rule);
  return spec ? describe(spec) : rule;
}
