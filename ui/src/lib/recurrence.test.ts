import { describe as group, expect, it } from "vitest";
import { buildRule, defaultSpec, describe, describeRule, expand, parseRule, type RuleSpec } from "./recurrence";

const start = { year: 2026, month: 12, day: 1, hour: 9, minute: 0 }; // a Tuesday
const days = (ws: { year: number; month: number; day: number }[]) =>
  ws.map((w) => `${w.year}-${String(w.month).padStart(2, "0")}-${String(w.day).padStart(2, "0")}`);

group("buildRule / parseRule", () => {
  it("round-trips the builder's rules", () => {
    const rules = [
      "FREQ=WEEKLY;BYDAY=MO,WE",
      "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU;COUNT=5",
      "FREQ=MONTHLY;BYMONTHDAY=15",
      "FREQ=MONTHLY;BYMONTHDAY=-1",
      "FREQ=MONTHLY;BYDAY=2TU;UNTIL=20270630T235959Z",
      "FREQ=MONTHLY;BYDAY=-1FR",
      "FREQ=DAILY;INTERVAL=3",
      "FREQ=YEARLY",
    ];
    for (const rule of rules) {
      const spec = parseRule(rule, start);
      expect(spec, rule).not.toBeNull();
      expect(buildRule(spec as RuleSpec)).toBe(rule);
    }
  });

  it("reads the presets", () => {
    expect(parseRule("weekly", start)?.byDay).toEqual(["TU"]);
    expect(parseRule("Daily")?.freq).toBe("DAILY");
  });

  it("leaves what it cannot edit to the advanced field", () => {
    expect(parseRule("FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1")).toBeNull();
    expect(parseRule("FREQ=HOURLY")).toBeNull();
    expect(parseRule("nonsense")).toBeNull();
  });
});

group("expand", () => {
  it("weekly on chosen days", () => {
    const spec = { ...defaultSpec(start), byDay: ["MO", "WE"] } as RuleSpec;
    expect(days(expand(spec, start, 4))).toEqual(["2026-12-02", "2026-12-07", "2026-12-09", "2026-12-14"]);
  });

  it("monthly on the 2nd Tuesday and on the last Friday", () => {
    const second = { ...defaultSpec(start), freq: "MONTHLY", monthlyMode: "weekday", ordinal: 2, ordinalDay: "TU" } as RuleSpec;
    expect(days(expand(second, start, 3))).toEqual(["2026-12-08", "2027-01-12", "2027-02-09"]);
    const last = { ...second, ordinal: -1, ordinalDay: "FR" } as RuleSpec;
    expect(days(expand(last, start, 3))).toEqual(["2026-12-25", "2027-01-29", "2027-02-26"]);
  });

  it("monthly on day 31 skips shorter months, as RFC 5545 says", () => {
    const s = { ...start, month: 1, day: 31 };
    const spec = { ...defaultSpec(s), freq: "MONTHLY", monthlyMode: "day", monthDay: 31 } as RuleSpec;
    expect(days(expand(spec, s, 3))).toEqual(["2026-01-31", "2026-03-31", "2026-05-31"]);
  });

  it("stops after COUNT and at UNTIL, and keeps the time of day", () => {
    const spec = { ...defaultSpec(start), freq: "DAILY", end: "count", count: 2 } as RuleSpec;
    const out = expand(spec, start, 10);
    expect(out).toHaveLength(2);
    expect(out.every((w) => w.hour === 9 && w.minute === 0)).toBe(true);
    const until = { ...defaultSpec(start), freq: "DAILY", end: "until", until: "2026-12-03" } as RuleSpec;
    expect(days(expand(until, start, 10))).toEqual(["2026-12-01", "2026-12-02", "2026-12-03"]);
  });

  it("is bounded for rules that never match", () => {
    const s = { ...start, month: 2, day: 29, year: 2027 };
    expect(expand({ ...defaultSpec(s), freq: "YEARLY" }, s, 3).length).toBeLessThanOrEqual(3);
  });
});

group("describe", () => {
  it("says the rule in words", () => {
    expect(describeRule("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE;COUNT=5")).toBe("Every 2 weeks on Monday and Wednesday, 5 times");
    expect(describeRule("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR")).toBe("Every week on weekdays");
    expect(describeRule("FREQ=MONTHLY;BYDAY=2TU")).toBe("Every month on the second Tuesday");
    expect(describeRule("FREQ=MONTHLY;BYMONTHDAY=-1")).toBe("Every month on the last day");
    expect(describeRule("daily")).toBe("Every day");
    expect(describeRule("FREQ=MONTHLY;BYSETPOS=-1;BYDAY=FR")).toBe("FREQ=MONTHLY;BYSETPOS=-1;BYDAY=FR");
    expect(describe({ ...defaultSpec(start), freq: "MONTHLY", monthDay: 22 })).toBe("Every month on the 22nd");
  });
});
