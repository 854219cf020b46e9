"use client";
/** Create and edit form: every field the API has, dates in the task's zone, a recurrence builder. */
import { useMemo, useState, type FormEvent, type ReactNode } from "react";
import { ApiError, errorMessage } from "@/lib/api-client";
import { parseWallInput, timeZoneList } from "@/lib/datetime";
import { defaultSpec, describe, describeRule, expand, parseRule, PRESETS } from "@/lib/recurrence";
import { Button } from "@/components/ui/button";
import { createTask } from "../api/create-task";
import { updateTask } from "../api/update-task";
import {
  diffPatch,
  emptyValues,
  REMINDER_OFFSETS,
  toInput,
  valuesFromTask,
  type FormErrors,
  type FormValues,
  type RepeatMode,
} from "../form-model";
import { PRIORITIES, PRIORITY_LABELS, STATUSES, STATUS_LABELS, type Task } from "../types";
import { RecurrenceBuilder } from "./recurrence-builder";
import { TagInput } from "./tag-input";

const REPEAT_LABELS: Record<RepeatMode, string> = {
  none: "Does not repeat",
  daily: "Daily",
  weekly: "Weekly",
  monthly: "Monthly",
  yearly: "Yearly",
  custom: "Custom…",
  advanced: "Advanced (RRULE)",
};

function offsetLabel(minutes: number): string {
  if (minutes === 0) return "At the due time";
  if (minutes < 60) return `${minutes} minutes before`;
  if (minutes < 1440) return `${minutes / 60} hour${minutes === 60 ? "" : "s"} before`;
  return `${minutes / 1440} day${minutes === 1440 ? "" : "s"} before`;
}

function wallWords(w: { year: number; month: number; day: number; hour: number; minute: number }): string {
  return new Intl.DateTimeFormat(undefined, {
    timeZone: "UTC",
    weekday: "short",
    month: "short",
    day: "numeric",
    year: "numeric",
    hour: "numeric",
    minute: "2-digit",
  }).format(new Date(Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute)));
}

function Field({
  id,
  label,
  error,
  hint,
  children,
}: {
  id: string;
  label: string;
  error?: string;
  hint?: ReactNode;
  children: ReactNode;
}) {
  return (
    <div className="flex flex-col gap-1">
      <label htmlFor={id} className="text-sm font-medium">
        {label}
      </label>
      {children}
      {hint && !error && (
        <p id={`${id}-hint`} className="text-xs text-slate-600 dark:text-slate-400">
          {hint}
        </p>
      )}
      {error && (
        <p id={`${id}-error`} className="text-sm text-red-700 dark:text-red-400">
          {error}
        </p>
      )}
    </div>
  );
}

export function TaskForm({
  task,
  tagSuggestions,
  onSaved,
  onCancel,
}: {
  /** null: create a new task. */
  task: Task | null;
  tagSuggestions: string[];
  onSaved: (task: Task, created: boolean) => void;
  onCancel: () => void;
}) {
  const initial = useMemo(() => (task ? valuesFromTask(task) : emptyValues()), [task]);
  const [values, setValues] = useState<FormValues>(initial);
  const [errors, setErrors] = useState<FormErrors>({});
  const [saving, setSaving] = useState(false);
  const [customBefore, setCustomBefore] = useState(
    () => initial.reminderMode === "before" && !(REMINDER_OFFSETS as readonly number[]).includes(initial.reminderBefore),
  );
  const zones = useMemo(() => timeZoneList(), []);
  const set = (patch: Partial<FormValues>) => setValues((v) => ({ ...v, ...patch }));

  const preview = useMemo(() => {
    if (values.repeat === "none") return null;
    const spec =
      values.repeat === "custom"
        ? values.spec
        : values.repeat === "advanced"
          ? parseRule(values.advancedRule)
          : parseRule(values.repeat, parseWallInput(values.due) ?? undefined);
    const text = spec ? describe(spec) : describeRule(values.advancedRule) || "Custom rule";
    const start = parseWallInput(values.due);
    const next = spec && start ? expand(spec, start, 4).map(wallWords) : [];
    return { text, next };
  }, [values.repeat, values.spec, values.advancedRule, values.due]);

  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    const { input, errors: found } = toInput(values);
    setErrors(found);
    if (Object.keys(found).length) return;
    setSaving(true);
    try {
      if (task) {
        const patch = diffPatch(task, initial, values, input);
        const saved = Object.keys(patch).length ? await updateTask(task.id, patch, task.version) : task;
        onSaved(saved, false);
      } else {
        onSaved(await createTask(input), true);
      }
    } catch (err) {
      const next: FormErrors = {};
      if (err instanceof ApiError) {
        if (err.status === 412) {
          next.form = "Someone else changed this task meanwhile. Close the form and open it again to see their changes.";
        } else {
          next.form = err.detail;
          const map: Record<string, keyof FormValues> = {
            title: "title",
            description: "description",
            tags: "tags",
            due_date: "due",
            reminder_at: "reminderAt",
            recurrence_rule: "repeat",
            timezone: "timezone",
          };
          for (const fe of err.errors) {
            const key = map[fe.field.split(/[.[]/)[0] ?? ""];
            if (key) next[key] = fe.message;
          }
        }
      } else next.form = errorMessage(err);
      setErrors(next);
    } finally {
      setSaving(false);
    }
  };

  const described = (id: string, key: keyof FormErrors) => (errors[key] ? `${id}-error` : undefined);

  return (
    <form onSubmit={onSubmit} noValidate className="space-y-4" aria-label={task ? "Edit task" : "New task"}>
      {errors.form && (
        <p role="alert" className="rounded-md bg-red-50 px-3 py-2 text-sm text-red-800 dark:bg-red-950 dark:text-red-200">
          {errors.form}
        </p>
      )}
      <Field id="task-title" label="Title" error={errors.title}>
        <input
          id="task-title"
          className="field"
          value={values.title}
          maxLength={200}
          required
          autoFocus
          aria-invalid={!!errors.title || undefined}
          aria-describedby={described("task-title", "title")}
          onChange={(e) => set({ title: e.target.value })}
        />
      </Field>
      <Field id="task-description" label="Description" error={errors.description}>
        <textarea
          id="task-description"
          className="field min-h-20"
          value={values.description}
          maxLength={2000}
          aria-describedby={described("task-description", "description")}
          onChange={(e) => set({ description: e.target.value })}
        />
      </Field>
      <div className="grid grid-cols-2 gap-3">
        <Field id="task-priority" label="Priority">
          <select
            id="task-priority"
            className="field"
            value={values.priority}
            onChange={(e) => set({ priority: e.target.value as FormValues["priority"] })}
          >
            {PRIORITIES.map((p) => (
              <option key={p} value={p}>
                {PRIORITY_LABELS[p]}
              </option>
            ))}
          </select>
        </Field>
        <Field id="task-status" label="Status">
          <select
            id="task-status"
            className="field"
            value={values.status}
            onChange={(e) => set({ status: e.target.value as FormValues["status"] })}
          >
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {STATUS_LABELS[s]}
              </option>
            ))}
          </select>
        </Field>
      </div>
      <Field id="task-tags" label="Tags" error={errors.tags} hint="Press Enter or comma to add a tag.">
        <TagInput
          id="task-tags"
          value={values.tags}
          onChange={(tags) => set({ tags })}
          suggestions={tagSuggestions}
          invalid={!!errors.tags}
          describedBy={errors.tags ? "task-tags-error" : "task-tags-hint"}
        />
      </Field>
      <div className="grid gap-3 sm:grid-cols-2">
        <Field id="task-due" label={`Due (${values.timezone})`} error={errors.due}>
          <input
            id="task-due"
            type="datetime-local"
            className="field"
            value={values.due}
            aria-describedby={described("task-due", "due")}
            onChange={(e) => set({ due: e.target.value })}
          />
        </Field>
        <Field id="task-timezone" label="Time zone" error={errors.timezone}>
          <select
            id="task-timezone"
            className="field"
            value={values.timezone}
            onChange={(e) => set({ timezone: e.target.value })}
          >
            {!zones.includes(values.timezone) && <option value={values.timezone}>{values.timezone}</option>}
            {zones.map((z) => (
              <option key={z} value={z}>
                {z}
              </option>
            ))}
          </select>
        </Field>
      </div>
      <div className="grid gap-3 sm:grid-cols-2">
        <Field id="task-reminder" label="Reminder" error={errors.reminderMode}>
          <select
            id="task-reminder"
            className="field"
            value={
              values.reminderMode === "before"
                ? customBefore
                  ? "before:custom"
                  : `before:${values.reminderBefore}`
                : values.reminderMode
            }
            aria-describedby={described("task-reminder", "reminderMode")}
            onChange={(e) => {
              const v = e.target.value;
              setCustomBefore(v === "before:custom");
              if (v === "before:custom") set({ reminderMode: "before" });
              else if (v.startsWith("before:")) set({ reminderMode: "before", reminderBefore: Number(v.slice(7)) });
              else set({ reminderMode: v as "none" | "at", reminderAt: values.reminderAt || values.due });
            }}
          >
            <option value="none">No reminder</option>
            {REMINDER_OFFSETS.map((m) => (
              <option key={m} value={`before:${m}`}>
                {offsetLabel(m)}
              </option>
            ))}
            <option value="before:custom">Minutes before…</option>
            <option value="at">At a specific time…</option>
          </select>
        </Field>
        {values.reminderMode === "before" && customBefore && (
          <Field id="task-reminder-minutes" label="Minutes before due">
            <input
              id="task-reminder-minutes"
              type="number"
              inputMode="numeric"
              min={0}
              max={525600}
              className="field"
              value={values.reminderBefore}
              onChange={(e) => {
                const n = Number(e.target.value);
                if (Number.isInteger(n) && n >= 0 && n <= 525600) set({ reminderBefore: n });
              }}
            />
          </Field>
        )}
        {values.reminderMode === "at" && (
          <Field id="task-reminder-at" label={`Remind at (${values.timezone})`} error={errors.reminderAt}>
            <input
              id="task-reminder-at"
              type="datetime-local"
              className="field"
              value={values.reminderAt}
              aria-describedby={described("task-reminder-at", "reminderAt")}
              onChange={(e) => set({ reminderAt: e.target.value })}
            />
          </Field>
        )}
      </div>
      <div className="grid gap-3 sm:grid-cols-2">
        <Field id="task-repeat" label="Repeat" error={errors.repeat}>
          <select
            id="task-repeat"
            className="field"
            value={values.repeat}
            aria-describedby={described("task-repeat", "repeat")}
            onChange={(e) => {
              const repeat = e.target.value as RepeatMode;
              if (repeat === "custom" && values.repeat !== "custom") {
                // Start the builder from the preset in use, or from the due date's weekday and day.
                const start = parseWallInput(values.due) ?? undefined;
                const from = values.repeat !== "none" && values.repeat !== "advanced" ? values.repeat : values.advancedRule;
                set({ repeat, spec: (from && parseRule(from, start)) || defaultSpec(start) });
              } else set({ repeat });
            }}
          >
            {(["none", ...PRESETS, "custom", "advanced"] as RepeatMode[]).map((r) => (
              <option key={r} value={r}>
                {REPEAT_LABELS[r]}
              </option>
            ))}
          </select>
        </Field>
        {values.repeat !== "none" && (
          <Field id="task-anchor" label="Next one is scheduled">
            <select
              id="task-anchor"
              className="field"
              value={values.anchor}
              onChange={(e) => set({ anchor: e.target.value as FormValues["anchor"] })}
            >
              <option value="schedule">On the schedule</option>
              <option value="completion">From when I complete it</option>
            </select>
          </Field>
        )}
      </div>
      {values.repeat === "custom" && <RecurrenceBuilder spec={values.spec} onChange={(spec) => set({ spec })} />}
      {values.repeat === "advanced" && (
        <Field id="task-rrule" label="RRULE (RFC 5545)">
          <input
            id="task-rrule"
            className="field font-mono"
            value={values.advancedRule}
            placeholder="FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1"
            onChange={(e) => set({ advancedRule: e.target.value })}
          />
        </Field>
      )}
      {preview && (
        <div
          className="rounded-md bg-slate-100 px-3 py-2 text-sm dark:bg-slate-800"
          aria-live="polite"
          data-testid="recurrence-preview"
        >
          <p className="font-medium">{preview.text}</p>
          {preview.next.length > 0 ? (
            <p className="text-slate-700 dark:text-slate-300">Next: {preview.next.join(" · ")}</p>
          ) : (
            <p className="text-slate-700 dark:text-slate-300">
              {values.due ? "The server computes the occurrences of this rule." : "Set a due date to see the next occurrences."}
            </p>
          )}
        </div>
      )}
      <div className="flex justify-end gap-2 pt-2">
        <Button onClick={onCancel}>Cancel</Button>
        <Button type="submit" variant="primary" disabled={saving}>
          {saving ? "Saving…" : task ? "Save changes" : "Create task"}
        </Button>
      </div>
    </form>
  );
}
