import { describe, expect, it } from "vitest";
import { makeTask } from "@/test/server";
import { diffPatch, emptyValues, toInput, valuesFromTask } from "./form-model";

describe("task form model", () => {
  const task = makeTask({
    title: "Standup",
    timezone: "Europe/Paris",
    due_date: "2026-12-01T08:00:00Z",
    reminder_at: "2026-12-01T07:45:00Z",
    is_recurring: true,
    recurrence_rule: "FREQ=WEEKLY;BYDAY=TU,TH",
    tags: ["work"],
  });

  it("loads dates as wall time in the task's zone and recognises a relative reminder", () => {
    const v = valuesFromTask(task);
    expect(v.due).toBe("2026-12-01T09:00");
    expect(v.reminderMode).toBe("before");
    expect(v.reminderBefore).toBe(15);
    expect(v.repeat).toBe("custom");
    expect(v.spec.byDay).toEqual(["TU", "TH"]);
  });

  it("saving an untouched form sends nothing (no drift)", () => {
    const before = valuesFromTask(task);
    const { input, errors } = toInput(before);
    expect(errors).toEqual({});
    expect(diffPatch(task, before, before, input)).toEqual({});
  });

  it("sends only what changed, with the zone's offset", () => {
    const before = valuesFromTask(task);
    const after = { ...before, due: "2026-12-02T10:30" };
    const { input } = toInput(after);
    expect(diffPatch(task, before, after, input)).toEqual({
      due_date: "2026-12-02T10:30:00+01:00",
      reminder_at: "2026-12-02T10:15:00+01:00",
    });
  });

  it("clears fields with null", () => {
    const before = valuesFromTask(task);
    const after = { ...before, due: "", reminderMode: "none" as const, repeat: "none" as const };
    const { input } = toInput(after);
    expect(diffPatch(task, before, after, input)).toEqual({
      due_date: null,
      reminder_at: null,
      is_recurring: false,
      recurrence_rule: null,
    });
  });

  it("validates before sending", () => {
    const { errors } = toInput({ ...emptyValues("UTC"), title: "  ", reminderMode: "before" });
    expect(errors.title).toBeDefined();
    expect(errors.reminderMode).toMatch(/due date/);
  });

  it("keeps an advanced RRULE verbatim", () => {
    const t = makeTask({ is_recurring: true, recurrence_rule: "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1" });
    const v = valuesFromTask(t);
    expect(v.repeat).toBe("advanced");
    expect(toInput(v).input.recurrence_rule).toBe("FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1");
  });
});
