import { describe, expect, it } from "vitest";
import { dailyCounts } from "./daily-counts";

describe("dailyCounts", () => {
  it("counts created and completed per day in the viewer's zone", () => {
    const ev = (event_type: string, timestamp: string) => ({ id: timestamp + event_type, event_type, task_id: "t", timestamp, payload: null });
    const out = dailyCounts(
      [
        ev("task.created", "2026-12-01T10:00:00Z"),
        ev("task.created", "2026-12-01T23:30:00Z"), // Dec 2 in Paris
        ev("task.completed", "2026-12-02T09:00:00Z"),
        ev("task.updated", "2026-12-02T09:00:00Z"),
        ev("task.created", "2026-11-01T09:00:00Z"), // outside the window
      ],
      3,
      new Date("2026-12-02T12:00:00Z"),
      "Europe/Paris",
    );
    expect(out).toEqual([
      { day: "2026-11-30", created: 0, completed: 0 },
      { day: "2026-12-01", created: 1, completed: 0 },
      { day: "2026-12-02", created: 1, completed: 1 },
    ]);
  });

  it("does not count a reopening as a completion", () => {
    const ev = (status: string | undefined, timestamp: string) => ({
      id: timestamp,
      event_type: "task.completed",
      task_id: "t",
      timestamp,
      payload: status === undefined ? null : { status },
    });
    const out = dailyCounts(
      [ev("completed", "2026-12-02T09:00:00Z"), ev("pending", "2026-12-02T10:00:00Z"), ev("in_progress", "2026-12-02T10:30:00Z"), ev(undefined, "2026-12-02T11:00:00Z")],
      1,
      new Date("2026-12-02T12:00:00Z"),
      "UTC",
    );
    expect(out).toEqual([{ day: "2026-12-02", created: 0, completed: 2 }]);
  });
});
