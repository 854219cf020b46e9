/**
 * The task list's data hook: pages through GET /api/tasks for the current filters (infinite scroll),
 * and applies local changes (optimistic updates, hidden rows) on top of what the server sent.
 * Stale responses (filters changed meanwhile) are dropped.
 */
"use client";

import { useCallback, useEffect, useMemo, useReducer, useRef } from "react";
import { errorMessage } from "@/lib/api-client";
import { listTasks } from "../api/list-tasks";
import type { Task, TaskFilters } from "../types";

export const PAGE_SIZE = 100;

interface State {
  tasks: Task[];
  total: number;
  status: "loading" | "ready" | "error";
  error: string | null;
  loadingMore: boolean;
  hidden: ReadonlySet<string>;
}

type Action =
  | { type: "reset" }
  | { type: "page"; tasks: Task[]; total: number; append: boolean }
  | { type: "error"; error: string; append: boolean }
  | { type: "loadingMore" }
  | { type: "replace"; task: Task }
  | { type: "patch"; id: string; patch: Partial<Task> }
  | { type: "hide"; id: string }
  | { type: "unhide"; id: string }
  | { type: "drop"; id: string };

const initial: State = { tasks: [], total: 0, status: "loading", error: null, loadingMore: false, hidden: new Set() };

function reducer(state: State, action: Action): State {
  switch (action.type) {
    case "reset":
      return { ...state, status: "loading", error: null, loadingMore: false };
    case "loadingMore":
      return { ...state, loadingMore: true };
    case "page": {
      let tasks = action.tasks;
      if (action.append) {
        // Offsets shift when tasks are added or removed meanwhile: skip ids we already have.
        const seen = new Set(state.tasks.map((t) => t.id));
        tasks = state.tasks.concat(action.tasks.filter((t) => !seen.has(t.id)));
      }
      return { ...state, tasks, total: action.total, status: "ready", error: null, loadingMore: false };
    }
    case "error":
      return action.append
        ? { ...state, loadingMore: false, error: action.error }
        : { ...state, status: "error", error: action.error, loadingMore: false };
    case "replace":
      return { ...state, tasks: state.tasks.map((t) => (t.id === action.task.id ? action.task : t)) };
    case "patch":
      return { ...state, tasks: state.tasks.map((t) => (t.id === action.id ? { ...t, ...action.patch } : t)) };
    case "hide": {
      const hidden = new Set(state.hidden);
      hidden.add(action.id);
      return { ...state, hidden };
    }
    case "unhide": {
      const hidden = new Set(state.hidden);
      hidden.delete(action.id);
      return { ...state, hidden };
    }
    case "drop": {
      const hidden = new Set(state.hidden);
      hidden.delete(action.id);
      const had = state.tasks.some((t) => t.id === action.id);
      return {
        ...state,
        hidden,
        tasks: state.tasks.filter((t) => t.id !== action.id),
        total: had ? Math.max(0, state.total - 1) : state.total,
      };
    }
  }
}

export interface UseTasks {
  tasks: Task[];
  total: number;
  status: State["status"];
  error: string | null;
  loadingMore: boolean;
  hasMore: boolean;
  loadMore: () => void;
  refresh: () => Promise<void>;
  replace: (task: Task) => void;
  patch: (id: string, patch: Partial<Task>) => void;
  hide: (id: string) => void;
  unhide: (id: string) => void;
  drop: (id: string) => void;
}

export function useTasks(filters: TaskFilters): UseTasks {
  const [state, dispatch] = useReducer(reducer, initial);
  const generation = useRef(0);
  const inflight = useRef<AbortController | null>(null);
  const loadedRef = useRef(0);
  loadedRef.current = state.tasks.length;

  const fetchFirst = useCallback(async () => {
    const gen = ++generation.current;
    inflight.current?.abort();
    const controller = new AbortController();
    inflight.current = controller;
    dispatch({ type: "reset" });
    try {
      // A refresh keeps what the user has scrolled through (up to the API's limit of 200).
      const limit = Math.min(200, Math.max(PAGE_SIZE, loadedRef.current));
      const page = await listTasks(filters, { limit, offset: 0 }, controller.signal);
      if (gen === generation.current) dispatch({ type: "page", tasks: page.tasks, total: page.total, append: false });
    } catch (err) {
      if (controller.signal.aborted || gen !== generation.current) return;
      dispatch({ type: "error", error: errorMessage(err), append: false });
    }
  }, [filters]);

  useEffect(() => {
    loadedRef.current = 0;
    void fetchFirst();
    return () => inflight.current?.abort();
  }, [fetchFirst]);

  const loadingMoreRef = useRef(false);
  const loadMore = useCallback(() => {
    if (loadingMoreRef.current) return;
    const gen = generation.current;
    loadingMoreRef.current = true;
    dispatch({ type: "loadingMore" });
    listTasks(filters, { limit: PAGE_SIZE, offset: loadedRef.current })
      .then((page) => {
        if (gen === generation.current) dispatch({ type: "page", tasks: page.tasks, total: page.total, append: true });
      })
      .catch((err: unknown) => {
        if (gen === generation.current) dispatch({ type: "error", error: errorMessage(err), append: true });
      })
      .finally(() => {
        loadingMoreRef.current = false;
      });
  }, [filters]);

  const visible = useMemo(
    () => (state.hidden.size ? state.tasks.filter((t) => !state.hidden.has(t.id)) : state.tasks),
    [state.tasks, state.hidden],
  );

  return {
    tasks: visible,
    total: Math.max(0, state.total - state.hidden.size),
    status: state.status,
    error: state.error,
    loadingMore: state.loadingMore,
    hasMore: state.status === "ready" && state.tasks.length < state.total,
    loadMore,
    refresh: fetchFirst,
    replace: useCallback((task: Task) => dispatch({ type: "replace", task }), []),
    patch: useCallback((id: string, patch: Partial<Task>) => dispatch({ type: "patch", id, patch }), []),
    hide: useCallback((id: string) => dispatch({ type: "hide", id }), []),
    unhide: useCallback((id: string) => dispatch({ type: "unhide", id }), []),
    drop: useCallback((id: string) => dispatch({ type: "drop", id }), []),
  };
}
