"use client";
/** The audit timeline of one task (GET /api/tasks/{id}/history). */
import { useEffect, useState } from "react";
import { errorMessage, isNotFound } from "@/lib/api-client";
import { formatDateTime } from "@/lib/datetime";
import { Spinner } from "@/components/ui/spinner";
import { getTaskHistory } from "../api/get-task-history";
import { eventLabel, eventSummary } from "../event-labels";
import type { TaskEvent } from "../types";

export function TaskHistory({ taskId }: { taskId: string }) {
  const [state, setState] = useState<
    { kind: "loading" } | { kind: "error"; message: string } | { kind: "missing" } | { kind: "ready"; events: TaskEvent[] }
  >({ kind: "loading" });

  useEffect(() => {
    const controller = new AbortController();
    setState({ kind: "loading" });
    getTaskHistory(taskId, controller.signal)
      .then((res) => setState({ kind: "ready", events: res.events }))
      .catch((err: unknown) => {
        if (controller.signal.aborted) return;
        setState(isNotFound(err) ? { kind: "missing" } : { kind: "error", message: errorMessage(err) });
      });
    return () => controller.abort();
  }, [taskId]);

  if (state.kind === "loading") return <Spinner label="Loading history" />;
  if (state.kind === "missing") return <p className="text-sm">No history is available for this task on this server.</p>;
  if (state.kind === "error")
    return (
      <p role="alert" className="text-sm text-red-700 dark:text-red-400">
        Could not load the history: {state.message}
      </p>
    );
  if (state.events.length === 0) return <p className="text-sm">No events recorded yet.</p>;
  return (
    <ol className="relative space-y-4 border-l border-slate-300 pl-4 dark:border-slate-600" aria-label="Task history">
      {state.events.map((ev) => (
        <li key={ev.id} className="relative">
          <span
            aria-hidden="true"
            className="absolute top-1.5 -left-[21px] h-2.5 w-2.5 rounded-full bg-blue-700 ring-2 ring-white dark:bg-blue-400 dark:ring-slate-900"
          />
          <p className="text-sm font-medium">{eventLabel(ev)}</p>
          <p className="text-xs text-slate-600 dark:text-slate-400">
            <time dateTime={ev.timestamp}>{formatDateTime(ev.timestamp)}</time>
          </p>
          {eventSummary(ev) && <p className="text-sm text-slate-700 dark:text-slate-300">{eventSummary(ev)}</p>}
        </li>
      ))}
    </ol>
  );
}
