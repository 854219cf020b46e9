/** Tasks created and completed per day, in the viewer's time zone, for the activity chart. */
import type { TaskEvent } from "@/features/tasks/types";
import { browserTimeZone, toWallTime } from "@/lib/datetime";

export interface DayCount {
  day: string; // YYYY-MM-DD
  created: number;
  completed: number;
}

function dayKey(d: Date, tz: string): string {
  const w = toWallTime(d, tz);
  return `${w.year}-${String(w.month).padStart(2, "0")}-${String(w.day).padStart(2, "0")}`;
}

export function dailyCounts(events: TaskEvent[], days: number, now: Date = new Date(), tz: string = browserTimeZone()): DayCount[] {
  const out: DayCount[] = [];
  const index = new Map<string, DayCount>();
  for (let i = days - 1; i >= 0; i--) {
    const key = dayKey(new Date(now.getTime() - i * 86400000), tz);
    if (index.has(key)) continue;
    const entry = { day: key, created: 0, completed: 0 };
    index.set(key, entry);
    out.push(entry);
  }
  for (const ev of events) {
    const entry = index.get(dayKey(new Date(ev.timestamp), tz));
    if (!entry) continue;
    if (ev.event_type === "task.created") entry.created++;
    // `task.completed` also reports a reopening (the complete endpoint toggles, and a status
    // change away from completed goes out the same way): its payload's status says which.
    else if (ev.event_type === "task.completed" && (ev.payload?.status ?? "completed") === "completed") entry.completed++;
  }
  return out;
}
