/** Words for audit events (history drawer, activity feed). */
import type { TaskEvent } from "./types";

export const EVENT_LABELS: Record<string, string> = {
  "task.created": "Created",
  "task.updated": "Updated",
  "task.completed": "Completed",
  "task.deleted": "Deleted",
  "task.reminder.due": "Reminder sent",
  "task.recurring.triggered": "Next occurrence created",
};

export function eventSummary(event: TaskEvent): string {
  const p = event.payload ?? {};
  const changed = (p as { changed_fields?: unknown; changes?: unknown }).changed_fields ?? (p as { changes?: unknown }).changes;
  if (event.event_type === "task.updated" && changed && typeof changed === "object") {
    const names = Array.isArray(changed) ? changed.map(String) : Object.keys(changed);
    if (names.length) return `Changed ${names.map((n) => n.replaceAll("_", " ")).join(", ")}`;
  }
  const title = (p as { title?: unknown }).title;
  return typeof title === "string" ? title : "";
}

/** The task's title as the event recorded it, if it did. */
export function eventTitle(event: TaskEvent): string | null {
  const title = (event.payload as { title?: unknown } | null)?.title;
  return typeof title === "string" ? title : null;
}
