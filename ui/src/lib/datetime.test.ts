import { describe, expect, it } from "vitest";
import { dueState, fromWallTime, inputToIso, isoToInput, shiftIso, zoneOffsetMinutes } from "./datetime";

describe("inputToIso", () => {
  it("keeps the wall time and adds the zone's offset at that date (winter and summer)", () => {
    expect(inputToIso("2026-12-01T09:00", "Europe/Paris")).toBe("2026-12-01T09:00:00+01:00");
    expect(inputToIso("2026-07-01T09:00", "Europe/Paris")).toBe("2026-07-01T09:00:00+02:00");
    expect(inputToIso("2026-07-01T09:00", "America/New_York")).toBe("2026-07-01T09:00:00-04:00");
    expect(inputToIso("2026-03-10T23:30", "Asia/Kolkata")).toBe("2026-03-10T23:30:00+05:30");
    expect(inputToIso("2026-03-10T23:30", "UTC")).toBe("2026-03-10T23:30:00+00:00");
  });

  it("moves a wall time that does not exist (DST gap) forward, like clocks", () => {
    // 2026-03-08 02:30 does not exist in New York (clocks jump 02:00 -> 03:00).
    expect(inputToIso("2026-03-08T02:30", "America/New_York")).toBe("2026-03-08T03:30:00-04:00");
  });

  it("picks the first of two instants in an overlap", () => {
    // 2026-11-01 01:30 happens twice in New York; the first is EDT (-04:00).
    expect(fromWallTime({ year: 2026, month: 11, day: 1, hour: 1, minute: 30 }, "America/New_York").toISOString()).toBe(
      "2026-11-01T05:30:00.000Z",
    );
  });

  it("rejects malformed input", () => {
    expect(inputToIso("", "UTC")).toBeNull();
    expect(inputToIso("2026-13-01T09:00", "UTC")).toBeNull();
    expect(inputToIso("tomorrow", "UTC")).toBeNull();
  });
});

describe("isoToInput", () => {
  it("shows a UTC instant as wall time in the task's zone", () => {
    expect(isoToInput("2026-12-01T08:00:00Z", "Europe/Paris")).toBe("2026-12-01T09:00");
    expect(isoToInput("2026-07-01T13:00:00Z", "America/New_York")).toBe("2026-07-01T09:00");
    expect(isoToInput(null, "UTC")).toBe("");
  });

  it("round-trips without drift across zones and seasons", () => {
    for (const tz of ["Europe/Paris", "America/New_York", "Asia/Tokyo", "Australia/Adelaide", "UTC"]) {
      for (const wall of ["2026-01-15T09:00", "2026-06-30T23:45", "2026-10-25T00:15"]) {
        const iso = inputToIso(wall, tz);
        expect(iso).not.toBeNull();
        expect(isoToInput(new Date(iso as string).toISOString(), tz)).toBe(wall);
      }
    }
  });
});

describe("helpers", () => {
  it("computes offsets and shifts", () => {
    expect(zoneOffsetMinutes(new Date("2026-01-01T00:00:00Z"), "Asia/Kolkata")).toBe(330);
    expect(shiftIso("2026-12-01T09:00:00+01:00", -30, "Europe/Paris")).toBe("2026-12-01T08:30:00+01:00");
  });

  it("classifies due dates", () => {
    const now = Date.parse("2026-06-01T12:00:00Z");
    expect(dueState("2026-06-01T11:00:00Z", false, now)).toBe("overdue");
    expect(dueState("2026-06-01T11:00:00Z", true, now)).toBe("none");
    expect(dueState("2026-06-02T06:00:00Z", false, now)).toBe("soon");
    expect(dueState("2026-06-09T06:00:00Z", false, now)).toBe("later");
    expect(dueState(null, false, now)).toBe("none");
  });
});
