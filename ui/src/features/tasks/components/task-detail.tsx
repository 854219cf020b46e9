"use client";
/** /tasks/view/?id=...: one task with its fields and its history (deep link target of notifications). */
import { lazy, Suspense, useEffect, useState } from "react";
import { errorMessage, isNotFound } from "@/lib/api-client";
import { formatDateTime } from "@/lib/datetime";
import { describeRule } from "@/lib/recurrence";
import { useAuditAvailable } from "@/lib/use-audit-available";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { Spinner } from "@/components/ui/spinner";
import { useToast } from "@/components/ui/toast";
import { getTask } from "../api/get-task";
import { useTags } from "../hooks/use-tags";
import { PRIORITY_LABELS, STATUS_LABELS, type Task } from "../types";

const TaskForm = lazy(() => import("./task-form").then((m) => ({ default: m.TaskForm })));
import { TaskHistory } from "./task-history";

export function TaskDetail() {
  const [id, setId] = useState<string | null>(null);
  const [state, setState] = useState<{ kind: "loading" } | { kind: "error"; message: string } | { kind: "ready"; task: Task }>(
    { kind: "loading" },
  );
  const [editing, setEditing] = useState(false);
  const audit = useAuditAvailable();
  const { tags } = useTags();
  const toast = useToast();

  useEffect(() => {
    setId(new URLSearchParams(window.location.search).get("id"));
  }, []);
  useEffect(() => {
    if (id === null) return;
    const controller = new AbortController();
    getTask(id, controller.signal)
      .then((task) => setState({ kind: "ready", task }))
      .catch((err: unknown) => {
        if (controller.signal.aborted) return;
        setState({ kind: "error", message: isNotFound(err) ? "This task does not exist (it may have been deleted)." : errorMessage(err) });
      });
    return () => controller.abort();
  }, [id]);

  if (state.kind === "loading") return <Spinner label="Loading task" />;
  if (state.kind === "error")
    return (
      <div role="alert" className="space-y-2">
        <h1 className="text-xl font-semibold">Task not available</h1>
        <p>{state.message}</p>
        <a href="/" className="text-blue-700 underline dark:text-blue-300">
          Back to your tasks
        </a>
      </div>
    );
  const t = state.task;
  const row = (label: string, value: string | null) =>
    value ? (
      <div className="flex gap-2 py-1">
        <dt className="w-28 shrink-0 text-slate-600 dark:text-slate-400">{label}</dt>
        <dd className="min-w-0 break-words">{value}</dd>
      </div>
    ) : null;
  return (
    <div className="space-y-6">
      <p>
        <a href="/" className="text-sm text-blue-700 underline dark:text-blue-300">
          ← All tasks
        </a>
      </p>
      <div className="flex flex-wrap items-start justify-between gap-2">
        <h1 className="text-2xl font-bold break-words">{t.title}</h1>
        <Button variant="primary" onClick={() => setEditing(true)}>
          Edit
        </Button>
      </div>
      {t.description && <p className="whitespace-pre-wrap">{t.description}</p>}
      <dl className="rounded-lg border border-slate-200 bg-white p-4 text-sm dark:border-slate-700 dark:bg-slate-900">
        {row("Status", STATUS_LABELS[t.status])}
        {row("Priority", PRIORITY_LABELS[t.priority])}
        {row("Tags", t.tags.join(", "))}
        {row("Due", t.due_date && formatDateTime(t.due_date))}
        {row("Reminder", t.reminder_at && formatDateTime(t.reminder_at))}
        {row("Repeats", t.is_recurring ? describeRule(t.recurrence_rule) : null)}
        {row("Time zone", t.timezone)}
        {row("Completed", t.completed_at && formatDateTime(t.completed_at))}
        {row("Created", formatDateTime(t.created_at))}
        {row("Updated", formatDateTime(t.updated_at))}
      </dl>
      {audit && (
        <section aria-labelledby="history-heading">
          <h2 id="history-heading" className="mb-3 text-lg font-semibold">
            History
          </h2>
          <TaskHistory key={t.version} taskId={t.id} />
        </section>
      )}
      <Dialog open={editing} onClose={() => setEditing(false)} title="Edit task" wide>
        <Suspense fallback={<Spinner label="Loading form" />}>
        <TaskForm
          task={t}
          tagSuggestions={tags.map((x) => x.name)}
          onCancel={() => setEditing(false)}
          onSaved={(task) => {
            setEditing(false);
            setState({ kind: "ready", task });
            toast.show({ message: `Saved "${task.title}"` });
          }}
        />
        </Suspense>
      </Dialog>
    </div>
  );
}
