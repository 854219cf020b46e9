"use client";
/** One task row: complete toggle, title, badges, inline status/priority, actions. */
import { memo } from "react";
import { dueState, formatDateTime, formatRelative } from "@/lib/datetime";
import { describeRule } from "@/lib/recurrence";
import { PRIORITIES, PRIORITY_LABELS, STATUSES, STATUS_LABELS, type Task, type TaskPriority, type TaskStatus } from "../types";

const PRIORITY_STYLES: Record<TaskPriority, string> = {
  high: "bg-red-100 text-red-800 dark:bg-red-950 dark:text-red-200",
  medium: "bg-amber-100 text-amber-900 dark:bg-amber-950 dark:text-amber-200",
  low: "bg-slate-100 text-slate-700 dark:bg-slate-800 dark:text-slate-300",
};

export interface TaskCardActions {
  onToggle: (task: Task) => void;
  onStatus: (task: Task, status: TaskStatus) => void;
  onPriority: (task: Task, priority: TaskPriority) => void;
  onEdit: (task: Task) => void;
  onDelete: (task: Task) => void;
  onHistory?: (task: Task) => void;
  onTag?: (tag: string) => void;
}

export const TaskCard = memo(function TaskCard({ task, actions }: { task: Task; actions: TaskCardActions }) {
  const done = task.status === "completed";
  const due = dueState(task.due_date, done);
  const titleId = `task-title-${task.id}`;
  return (
    <article
      aria-labelledby={titleId}
      data-testid="task-card"
      className={`flex gap-3 rounded-lg border bg-white p-3 dark:bg-slate-900 ${
        due === "overdue"
          ? "border-red-300 dark:border-red-800"
          : due === "soon"
            ? "border-amber-300 dark:border-amber-800"
            : "border-slate-200 dark:border-slate-700"
      }`}
    >
      <input
        type="checkbox"
        checked={done}
        onChange={() => actions.onToggle(task)}
        aria-label={done ? `Mark "${task.title}" as not done` : `Mark "${task.title}" as done`}
        className="mt-1 h-5 w-5 shrink-0 cursor-pointer accent-blue-700"
      />
      <div className="min-w-0 flex-1">
        <div className="flex flex-wrap items-center gap-x-2 gap-y-1">
          <h3 id={titleId} className="min-w-0 text-base font-medium break-words">
            <a
              href={`/tasks/view/?id=${encodeURIComponent(task.id)}`}
              className={`hover:underline ${done ? "text-slate-500 line-through dark:text-slate-400" : ""}`}
            >
              {task.title}
            </a>
          </h3>
          {due === "overdue" && (
            <span className="rounded bg-red-700 px-1.5 py-0.5 text-xs font-semibold text-white dark:bg-red-400 dark:text-slate-950">
              Overdue
            </span>
          )}
          {due === "soon" && (
            <span className="rounded bg-amber-200 px-1.5 py-0.5 text-xs font-semibold text-amber-950 dark:bg-amber-300">
              Due soon
            </span>
          )}
          {task.is_recurring && (
            <span
              className="rounded bg-blue-100 px-1.5 py-0.5 text-xs text-blue-900 dark:bg-blue-950 dark:text-blue-200"
              title={describeRule(task.recurrence_rule)}
            >
              <span aria-hidden="true">↻ </span>
              {describeRule(task.recurrence_rule) || "Repeats"}
            </span>
          )}
        </div>
        {task.description && (
          <p className="mt-0.5 line-clamp-2 text-sm text-slate-600 dark:text-slate-300">{task.description}</p>
        )}
        <div className="mt-1.5 flex flex-wrap items-center gap-x-3 gap-y-1 text-xs text-slate-600 dark:text-slate-300">
          {task.due_date && (
            <span>
              Due <time dateTime={task.due_date}>{formatDateTime(task.due_date)}</time>{" "}
              <span className={due === "overdue" ? "font-semibold text-red-700 dark:text-red-400" : ""}>
                ({formatRelative(task.due_date)})
              </span>
            </span>
          )}
          {task.reminder_at && !done && (
            <span>
              <span aria-hidden="true">⏰ </span>
              <span className="sr-only">Reminder </span>
              {formatDateTime(task.reminder_at)}
            </span>
          )}
          {task.tags.length > 0 && (
            <ul className="flex flex-wrap gap-1" aria-label="Tags">
              {task.tags.map((tag) => (
                <li key={tag}>
                  <button
                    type="button"
                    onClick={() => actions.onTag?.(tag)}
                    className="rounded-full bg-slate-100 px-2 py-0.5 text-slate-700 hover:bg-slate-200 dark:bg-slate-800 dark:text-slate-200 dark:hover:bg-slate-700"
                    aria-label={`Filter by tag ${tag}`}
                  >
                    #{tag}
                  </button>
                </li>
              ))}
            </ul>
          )}
        </div>
      </div>
      <div className="flex shrink-0 flex-col items-end gap-1.5 sm:flex-row sm:items-start">
        <select
          aria-label={`Status of "${task.title}"`}
          value={task.status}
          onChange={(e) => actions.onStatus(task, e.target.value as TaskStatus)}
          className="field py-1 text-xs"
        >
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {STATUS_LABELS[s]}
            </option>
          ))}
        </select>
        <select
          aria-label={`Priority of "${task.title}"`}
          value={task.priority}
          onChange={(e) => actions.onPriority(task, e.target.value as TaskPriority)}
          className={`field py-1 text-xs font-medium ${PRIORITY_STYLES[task.priority]}`}
        >
          {PRIORITIES.map((p) => (
            <option key={p} value={p}>
              {PRIORITY_LABELS[p]}
            </option>
          ))}
        </select>
        <div className="flex gap-0.5">
          <IconButton label={`Edit "${task.title}"`} onClick={() => actions.onEdit(task)} path="M13.6 3.4a2 2 0 0 1 2.8 2.8l-8.5 8.5-3.6.8.8-3.6 8.5-8.5Z" />
          {actions.onHistory && (
            <IconButton
              label={`History of "${task.title}"`}
              onClick={() => actions.onHistory?.(task)}
              path="M10 3a7 7 0 1 1-6.3 4M3 3v4h4M10 6v4l3 2"
            />
          )}
          <IconButton
            label={`Delete "${task.title}"`}
            onClick={() => actions.onDelete(task)}
            path="M4 6h12M8 6V4h4v2m-6 0 1 10h6l1-10"
          />
        </div>
      </div>
    </article>
  );
});

function IconButton({ label, onClick, path }: { label: string; onClick: () => void; path: string }) {
  return (
    <button
      type="button"
      onClick={onClick}
      aria-label={label}
      title={label}
      className="rounded p-1.5 text-slate-600 hover:bg-slate-100 hover:text-slate-900 dark:text-slate-300 dark:hover:bg-slate-800 dark:hover:text-white"
    >
      <svg aria-hidden="true" viewBox="0 0 20 20" className="h-4 w-4" fill="none" stroke="currentColor" strokeWidth="1.6" strokeLinecap="round" strokeLinejoin="round">
        <path d={path} />
      </svg>
    </button>
  );
}
