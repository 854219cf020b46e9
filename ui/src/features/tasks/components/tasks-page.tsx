"use client";
/** The main view: search, filters, the virtualized list, the form, history drawer and shortcuts. */
import { lazy, Suspense, useCallback, useEffect, useMemo, useRef, useState } from "react";
import { errorMessage } from "@/lib/api-client";
import { useAuditAvailable } from "@/lib/use-audit-available";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { EmptyState } from "@/components/ui/empty-state";
import { Spinner } from "@/components/ui/spinner";
import { useToast } from "@/components/ui/toast";
import { toggleComplete } from "../api/complete-task";
import { deleteTask } from "../api/delete-task";
import { updateTask } from "../api/update-task";
import { useDebouncedValue } from "../hooks/use-debounced-value";
import { useHotkeys } from "../hooks/use-hotkeys";
import { useTags } from "../hooks/use-tags";
import { useTasks } from "../hooks/use-tasks";
import {
  DEFAULT_FILTERS,
  PRIORITIES,
  SORT_FIELDS,
  STATUSES,
  type Task,
  type TaskFilters,
  type TaskPriority,
  type TaskStatus,
} from "../types";
import { FilterBar } from "./filter-bar";
import { SearchInput } from "./search-input";
import type { TaskCardActions } from "./task-card";
import { TaskList } from "./task-list";

// Dialogs load on demand (prefetched when the browser is idle) to keep the first load small.
const loadForm = () => import("./task-form");
const TaskForm = lazy(() => loadForm().then((m) => ({ default: m.TaskForm })));
const TaskHistory = lazy(() => import("./task-history").then((m) => ({ default: m.TaskHistory })));
const ShortcutsHelp = lazy(() => import("./shortcuts-help").then((m) => ({ default: m.ShortcutsHelp })));

export const SEARCH_DEBOUNCE_MS = 300;
const UNDO_MS = 6000;

function filtersFromUrl(): TaskFilters {
  const q = new URLSearchParams(window.location.search);
  const pick = <T extends string>(key: string, allowed: readonly T[], fallback: T | ""): T | "" => {
    const v = q.get(key) ?? "";
    return (allowed as readonly string[]).includes(v) ? (v as T) : fallback;
  };
  return {
    status: pick("status", STATUSES, ""),
    priority: pick("priority", PRIORITIES, ""),
    tag: q.get("tag") ?? "",
    search: q.get("search") ?? "",
    sort_by: pick("sort_by", SORT_FIELDS, "") || DEFAULT_FILTERS.sort_by,
    sort_order: q.get("sort_order") === "asc" ? "asc" : "desc",
  };
}

function filtersToUrl(f: TaskFilters) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(f)) {
    if (v && v !== DEFAULT_FILTERS[k as keyof TaskFilters]) q.set(k, v);
  }
  const qs = q.toString();
  window.history.replaceState(null, "", `${window.location.pathname}${qs ? `?${qs}` : ""}`);
}

export function TasksPage() {
  const [filters, setFilters] = useState<TaskFilters>(DEFAULT_FILTERS);
  const [ready, setReady] = useState(false);
  const debouncedSearch = useDebouncedValue(filters.search, SEARCH_DEBOUNCE_MS);
  // Only the debounced search reaches the query, so typing does not refetch on every key.
  const { status, priority, tag, sort_by, sort_order } = filters;
  const query = useMemo<TaskFilters>(
    () => ({ status, priority, tag, sort_by, sort_order, search: debouncedSearch }),
    [status, priority, tag, sort_by, sort_order, debouncedSearch],
  );

  useEffect(() => {
    setFilters(filtersFromUrl());
    setReady(true);
    const idle = window.requestIdleCallback ?? ((cb: () => void) => window.setTimeout(cb, 1500));
    idle(() => void loadForm());
  }, []);
  useEffect(() => {
    if (ready) filtersToUrl(query);
  }, [query, ready]);

  const list = useTasks(query);
  const { tags, reload: reloadTags } = useTags();
  const audit = useAuditAvailable();
  const toast = useToast();

  const [form, setForm] = useState<{ open: boolean; task: Task | null }>({ open: false, task: null });
  const [historyOf, setHistoryOf] = useState<Task | null>(null);
  const [helpOpen, setHelpOpen] = useState(false);
  const searchRef = useRef<HTMLInputElement>(null);

  useHotkeys({
    n: () => setForm({ open: true, task: null }),
    "/": () => searchRef.current?.focus(),
    "?": () => setHelpOpen(true),
  });

  // Recurring tasks get their next occurrence from the server a moment after completion.
  const refreshSoon = useCallback(() => {
    for (const delay of [1000, 3000, 8000]) setTimeout(() => void list.refresh(), delay);
  }, [list.refresh]);

  // Deletes wait for the undo window to pass; leaving the page sends them at once.
  const pendingDeletes = useRef(new Map<string, number>());
  useEffect(() => {
    const flush = () => {
      for (const id of pendingDeletes.current.keys()) void deleteTask(id, { keepalive: true }).catch(() => undefined);
      pendingDeletes.current.clear();
    };
    window.addEventListener("pagehide", flush);
    return () => window.removeEventListener("pagehide", flush);
  }, []);

  const { patch, replace, hide, unhide, drop } = list;
  const actions = useMemo<TaskCardActions>(() => {
    const mutate = async (task: Task, optimistic: Partial<Task>, call: () => Promise<Task>, undo?: () => void) => {
      patch(task.id, optimistic);
      try {
        const saved = await call();
        replace(saved);
        if (saved.is_recurring && saved.status === "completed" && task.status !== "completed") refreshSoon();
        return saved;
      } catch (err) {
        replace(task);
        toast.show({ message: `Could not update "${task.title}": ${errorMessage(err)}`, tone: "error" });
        undo?.();
        return null;
      }
    };
    return {
      onToggle: (task) => {
        const completing = task.status !== "completed";
        void mutate(
          task,
          { status: completing ? "completed" : "pending", completed_at: completing ? new Date().toISOString() : null },
          () => toggleComplete(task.id),
        ).then((saved) => {
          if (!saved) return;
          toast.show({
            message: completing ? `Completed "${task.title}"` : `Reopened "${task.title}"`,
            action: {
              label: "Undo",
              onClick: () => void mutate(saved, { status: task.status, completed_at: task.completed_at }, () => toggleComplete(task.id)),
            },
          });
        });
      },
      onStatus: (task, status: TaskStatus) =>
        void mutate(task, { status }, () => updateTask(task.id, { status })),
      onPriority: (task, priority: TaskPriority) =>
        void mutate(task, { priority }, () => updateTask(task.id, { priority })),
      onEdit: (task) => setForm({ open: true, task }),
      onHistory: audit ? (task) => setHistoryOf(task) : undefined,
      onTag: (tag) => setFilters((f) => ({ ...f, tag })),
      onDelete: (task) => {
        hide(task.id);
        pendingDeletes.current.set(task.id, Date.now());
        toast.show({
          message: `Deleted "${task.title}"`,
          duration: UNDO_MS,
          action: {
            label: "Undo",
            onClick: () => {
              pendingDeletes.current.delete(task.id);
              unhide(task.id);
            },
          },
          onExpire: () => {
            if (!pendingDeletes.current.delete(task.id)) return;
            deleteTask(task.id)
              .then(() => {
                drop(task.id);
                reloadTags();
              })
              .catch((err: unknown) => {
                unhide(task.id);
                toast.show({ message: `Could not delete "${task.title}": ${errorMessage(err)}`, tone: "error" });
              });
          },
        });
      },
    };
  }, [patch, replace, hide, unhide, drop, toast, audit, refreshSoon, reloadTags]);

  const onSaved = (task: Task, created: boolean) => {
    setForm({ open: false, task: null });
    toast.show({ message: created ? `Created "${task.title}"` : `Saved "${task.title}"` });
    if (created) void list.refresh();
    else replace(task);
    reloadTags();
  };

  const filtered = !!(query.status || query.priority || query.tag || query.search);

  return (
    <>
      <div className="mb-3 flex items-center justify-between gap-2">
        <h1 className="text-2xl font-bold">Tasks</h1>
        <div className="flex items-center gap-2">
          <button
            type="button"
            onClick={() => setHelpOpen(true)}
            className="hidden rounded-md px-2 py-1.5 text-sm text-slate-700 hover:bg-slate-100 sm:inline dark:text-slate-200 dark:hover:bg-slate-800"
            aria-label="Keyboard shortcuts"
          >
            <kbd aria-hidden="true">?</kbd>
          </button>
          <Button variant="primary" onClick={() => setForm({ open: true, task: null })} aria-keyshortcuts="n">
            <span aria-hidden="true">+</span> New task
          </Button>
        </div>
      </div>

      <div className="mb-3 space-y-2">
        <SearchInput ref={searchRef} value={filters.search} onChange={(search) => setFilters((f) => ({ ...f, search }))} />
        <FilterBar filters={filters} tags={tags} onChange={(next) => setFilters((f) => ({ ...f, ...next }))} />
      </div>

      {list.status === "ready" && (
        <p className="mb-2 text-sm text-slate-600 dark:text-slate-300" aria-live="polite">
          {list.total === 1 ? "1 task" : `${list.total} tasks`}
          {filtered ? " match" : ""}
        </p>
      )}

      {list.status === "loading" && list.tasks.length === 0 && (
        <div className="py-10 text-center">
          <Spinner label="Loading tasks" />
        </div>
      )}
      {list.status === "error" && (
        <div role="alert" className="rounded-lg border border-red-300 bg-red-50 p-4 text-sm text-red-900 dark:border-red-800 dark:bg-red-950 dark:text-red-100">
          <p className="font-semibold">Could not load your tasks.</p>
          <p className="mt-1">{list.error}</p>
          <Button className="mt-3" onClick={() => void list.refresh()}>
            Try again
          </Button>
        </div>
      )}
      {list.status !== "error" && list.tasks.length === 0 && list.status === "ready" && (
        filtered ? (
          <EmptyState title="No tasks match">
            <button
              type="button"
              className="text-blue-700 underline underline-offset-2 dark:text-blue-300"
              onClick={() => setFilters((f) => ({ ...f, status: "", priority: "", tag: "", search: "" }))}
            >
              Clear the filters
            </button>
          </EmptyState>
        ) : (
          <EmptyState title="No tasks yet">
            <p>Press <kbd className="font-mono">n</kbd> or use the button to create your first task.</p>
            <Button variant="primary" className="mt-4" onClick={() => setForm({ open: true, task: null })}>
              Create a task
            </Button>
          </EmptyState>
        )
      )}
      {list.tasks.length > 0 && list.status !== "error" && (
        <div className={list.status === "loading" ? "opacity-60 transition-opacity" : ""}>
          <TaskList
            tasks={list.tasks}
            hasMore={list.hasMore}
            loadingMore={list.loadingMore}
            onLoadMore={list.loadMore}
            actions={actions}
          />
        </div>
      )}

      <Dialog
        open={form.open}
        onClose={() => setForm({ open: false, task: null })}
        title={form.task ? "Edit task" : "New task"}
        wide
      >
        <Suspense fallback={<Spinner label="Loading form" />}>
          <TaskForm
            key={form.task?.id ?? "new"}
            task={form.task}
            tagSuggestions={tags.map((t) => t.name)}
            onSaved={onSaved}
            onCancel={() => setForm({ open: false, task: null })}
          />
        </Suspense>
      </Dialog>
      <Dialog open={historyOf !== null} onClose={() => setHistoryOf(null)} title={historyOf ? `History: ${historyOf.title}` : "History"} side>
        {historyOf && (
          <Suspense fallback={<Spinner label="Loading history" />}>
            <TaskHistory taskId={historyOf.id} />
          </Suspense>
        )}
      </Dialog>
      {helpOpen && (
        <Suspense fallback={null}>
          <ShortcutsHelp open={helpOpen} onClose={() => setHelpOpen(false)} />
        </Suspense>
      )}
    </>
  );
}
