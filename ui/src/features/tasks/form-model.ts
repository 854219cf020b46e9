/**
 * The task form's values and their mapping to and from the API. Pure functions, unit-tested.
 *
 * Dates are edited as wall time in the task's time zone and sent with that zone's offset. On edit,
 * a field whose wall time and zone did not change is not sent at all, so saving never moves a date.
 */
import { browserTimeZone, inputToIso, isoToInput, isValidTimeZone, parseWallInput, shiftIso } from "@/lib/datetime";
import { buildRule, defaultSpec, isPreset, parseRule, type Preset, type RuleSpec } from "@/lib/recurrence";
import type { RecurrenceAnchor, Task, TaskInput, TaskPatch, TaskPriority, TaskStatus } from "./types";

export const REMINDER_OFFSETS = [0, 5, 10, 15, 30, 60, 120, 1440, 2880] as const;

export type RepeatMode = "none" | Preset | "custom" | "advanced";

export interface FormValues {
  title: string;
  description: string;
  status: TaskStatus;
  priority: TaskPriority;
  tags: string[];
  timezone: string;
  due: string; // datetime-local in `timezone`
  reminderMode: "none" | "before" | "at";
  reminderBefore: number; // minutes
  reminderAt: string; // datetime-local in `timezone`
  repeat: RepeatMode;
  spec: RuleSpec;
  advancedRule: string;
  anchor: RecurrenceAnchor;
}

export function emptyValues(timezone: string = browserTimeZone()): FormValues {
  return {
    title: "",
    description: "",
    status: "pending",
    priority: "medium",
    tags: [],
    timezone,
    due: "",
    reminderMode: "none",
    reminderBefore: 30,
    reminderAt: "",
    repeat: "none",
    spec: defaultSpec(),
    advancedRule: "",
    anchor: "schedule",
  };
}

export function valuesFromTask(task: Task): FormValues {
  const tz = isValidTimeZone(task.timezone) ? task.timezone : "UTC";
  const due = isoToInput(task.due_date, tz);
  const values: FormValues = {
    ...emptyValues(tz),
    title: task.title,
    description: task.description ?? "",
    status: task.status,
    priority: task.priority,
    tags: [...task.tags],
    due,
    anchor: task.recurrence_anchor ?? "schedule",
  };
  if (task.reminder_at) {
    const before =
      task.due_date !== null
        ? Math.round((new Date(task.due_date).getTime() - new Date(task.reminder_at).getTime()) / 60000)
        : NaN;
    if ((REMINDER_OFFSETS as readonly number[]).includes(before)) {
      values.reminderMode = "before";
      values.reminderBefore = before;
    } else {
      values.reminderMode = "at";
      values.reminderAt = isoToInput(task.reminder_at, tz);
    }
  }
  const start = parseWallInput(due) ?? undefined;
  values.spec = defaultSpec(start);
  const rule = task.recurrence_rule?.trim() ?? "";
  if (task.is_recurring && rule) {
    if (isPreset(rule)) values.repeat = rule.toLowerCase() as Preset;
    else {
      const spec = parseRule(rule, start);
      if (spec) {
        values.repeat = "custom";
        values.spec = spec;
      } else {
        values.repeat = "advanced";
        values.advancedRule = rule;
      }
    }
  }
  return values;
}

export type FormErrors = Partial<Record<keyof FormValues | "form", string>>;

/** The full create body, or the errors a person can fix before anything is sent. */
export function toInput(values: FormValues): { input: TaskInput; errors: FormErrors } {
  const errors: FormErrors = {};
  const title = values.title.trim();
  if (!title) errors.title = "Give the task a title.";
  else if (title.length > 200) errors.title = "Titles are at most 200 characters.";
  if (values.description.length > 2000) errors.description = "Descriptions are at most 2000 characters.";
  if (values.tags.length > 20) errors.tags = "At most 20 tags.";
  if (!isValidTimeZone(values.timezone)) errors.timezone = "Unknown time zone.";

  const tz = isValidTimeZone(values.timezone) ? values.timezone : "UTC";
  let dueIso: string | null = null;
  if (values.due) {
    dueIso = inputToIso(values.due, tz);
    if (!dueIso) errors.due = "Enter a valid date and time.";
  }

  let reminderIso: string | null = null;
  if (values.reminderMode === "before") {
    if (!dueIso) errors.reminderMode = "A reminder before the due date needs a due date.";
    else reminderIso = shiftIso(dueIso, -values.reminderBefore, tz);
  } else if (values.reminderMode === "at") {
    reminderIso = values.reminderAt ? inputToIso(values.reminderAt, tz) : null;
    if (!reminderIso) errors.reminderAt = "Enter the reminder's date and time.";
  }

  let rule: string | null = null;
  if (values.repeat === "custom") {
    if (values.spec.freq === "WEEKLY" && values.spec.byDay.length === 0) errors.repeat = "Pick at least one day.";
    if (values.spec.end === "until" && !values.spec.until) errors.repeat = "Pick the date the series ends.";
    rule = buildRule(values.spec);
  } else if (values.repeat === "advanced") {
    rule = values.advancedRule.trim().replace(/^RRULE:/i, "");
    if (!rule) errors.repeat = "Enter an RRULE, e.g. FREQ=WEEKLY;BYDAY=MO,WE.";
  } else if (values.repeat !== "none") {
    rule = values.repeat;
  }

  const input: TaskInput = {
    title,
    description: values.description.trim() ? values.description : null,
    status: values.status,
    priority: values.priority,
    tags: values.tags,
    timezone: tz,
    due_date: dueIso,
    reminder_at: reminderIso,
    is_recurring: rule !== null,
    recurrence_rule: rule,
    recurrence_anchor: values.anchor,
  };
  return { input, errors };
}

/**
 * Only what changed since `task` was loaded. Dates are compared as wall time + zone, the way the
 * person sees them, so an untouched date is never re-sent (and can never drift).
 */
export function diffPatch(task: Task, before: FormValues, after: FormValues, input: TaskInput): TaskPatch {
  const patch: TaskPatch = {};
  if (input.title !== task.title) patch.title = input.title;
  if ((input.description ?? null) !== (task.description ?? null)) patch.description = input.description ?? null;
  if (input.status !== task.status) patch.status = input.status;
  if (input.priority !== task.priority) patch.priority = input.priority;
  if (JSON.stringify(input.tags) !== JSON.stringify(task.tags)) patch.tags = input.tags;
  const zoneChanged = after.timezone !== before.timezone;
  if (zoneChanged) patch.timezone = input.timezone;
  const dueChanged = zoneChanged || after.due !== before.due;
  if (dueChanged) patch.due_date = input.due_date ?? null;
  const reminderChanged =
    zoneChanged ||
    after.reminderMode !== before.reminderMode ||
    (after.reminderMode === "before" && (after.reminderBefore !== before.reminderBefore || dueChanged)) ||
    (after.reminderMode === "at" && after.reminderAt !== before.reminderAt);
  if (reminderChanged) patch.reminder_at = input.reminder_at ?? null;
  // Compare what the person edited, not the rule text: "FREQ=WEEKLY;INTERVAL=1" stays as stored.
  const repeatChanged =
    after.repeat !== before.repeat ||
    (after.repeat === "custom" && JSON.stringify(after.spec) !== JSON.stringify(before.spec)) ||
    (after.repeat === "advanced" && after.advancedRule.trim() !== before.advancedRule.trim());
  if (repeatChanged) {
    patch.is_recurring = input.is_recurring;
    patch.recurrence_rule = input.recurrence_rule ?? null;
  }
  if (input.is_recurring && input.recurrence_anchor !== task.recurrence_anchor) {
    patch.recurrence_anchor = input.recurrence_anchor;
  }
  return patch;
}
