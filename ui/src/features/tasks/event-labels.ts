/** Words for audit events (history drawer, activity feed), from the payloads the server records. */
import { formatDateTime } from "@/lib/datetime";
import type { TaskEvent } from "./types";

export const EVENT_LABELS: Record<string, string> = {
  "task.created": "Created",
  "task.updated": "Updated",
  "task.completed": "Completed",
  "task.deleted": "Deleted",
  "task.reminder.due": "Reminder sent",
  "task.recurring.triggered": "Next occurrence created",
};

type Payload = Record<string, unknown>;

const str = (v: unknown): string | null => (typeof v === "string" ? v : null);

function changedNames(p: Payload): string[] {
  // `changed` is {field: new value}; older shapes list names.
  const changed = p.changed ?? p.changed_fields ?? p.changes;
  if (Array.isArray(changed)) return changed.map(String);
  if (changed && typeof changed === "object") return Object.keys(changed);
  return [];
}

/** The event's label. `task.completed` also reports a reopening (the complete endpoint toggles,
 * and a status change away from completed goes out the same way): its payload's status says. */
export function eventLabel(event: TaskEvent): string {
  if (event.event_type === "task.completed") {
    const status = str((event.payload ?? {}).status);
    if (status === "pending") return "Reopened";
    if (status === "in_progress") return "Reopened (in progress)";
  }
  return EVENT_LABELS[event.event_type] ?? event.event_type;
}

/** One line saying what happened beyond the label. */
export function eventSummary(event: TaskEvent): string {
  const p: Payload = event.payload ?? {};
  switch (event.event_type) {
    case "task.updated": {
      const names = changedNames(p);
      return names.length ? `Changed ${names.map((n) => n.replaceAll("_", " ")).join(", ")}` : "";
    }
    case "task.recurring.triggered": {
      const next = str(p.next_due_date);
      return next ? `Next one due ${formatDateTime(next)}` : "";
    }
    case "task.reminder.due": {
      const due = str(p.due_date);
      return due ? `Due ${formatDateTime(due)}` : "";
    }
    default:
      return eventTitle(event) ?? "";
  }
}

/** The task's title as the event recorded it, if it did. */
export function eventTitle(event: TaskEvent): string | null {
  const p: Payload = event.payload ?? {};
  const task = p.task && typeof p.task === "object" ? (p.task as Payload) : {};
  const changed = p.changed && typeof p.changed === "object" && !Array.isArray(p.changed) ? (p.changed as Payload) : {};
  return str(p.title) ?? str(task.title) ?? str(changed.title);
}
