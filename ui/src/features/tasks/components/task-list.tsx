"use client";
/**
 * The list, virtualized against the window scroll: only the rows on screen (plus a margin) are in the
 * DOM, so thousands of tasks scroll smoothly. Reaching the end loads the next page.
 */
import { useEffect, useMemo } from "react";
import { useWindowVirtualizer } from "@/lib/use-window-virtualizer";
import type { Task } from "../types";
import { TaskCard, type TaskCardActions } from "./task-card";

export function TaskList({
  tasks,
  hasMore,
  loadingMore,
  onLoadMore,
  actions,
}: {
  tasks: Task[];
  hasMore: boolean;
  loadingMore: boolean;
  onLoadMore: () => void;
  actions: TaskCardActions;
}) {
  const keys = useMemo(() => tasks.map((t) => t.id), [tasks]);
  const { containerRef, rows, totalSize, measureRef } = useWindowVirtualizer({ keys, estimate: 100 });
  const lastIndex = rows.length ? (rows[rows.length - 1]?.index ?? 0) : -1;

  useEffect(() => {
    if (hasMore && !loadingMore && lastIndex >= tasks.length - 10) onLoadMore();
  }, [hasMore, loadingMore, lastIndex, tasks.length, onLoadMore]);

  return (
    <div>
      <div
        ref={containerRef}
        role="feed"
        aria-busy={loadingMore}
        aria-label="Tasks"
        style={{ height: totalSize, position: "relative" }}
      >
        {rows.map((row) => {
          const task = tasks[row.index];
          if (!task) return null;
          return (
            <div
              key={row.key}
              data-key={row.key}
              ref={measureRef}
              style={{ position: "absolute", top: 0, left: 0, width: "100%", transform: `translateY(${row.start}px)` }}
              className="pb-2"
            >
              <TaskCard task={task} actions={actions} />
            </div>
          );
        })}
      </div>
      {hasMore && (
        <div className="py-4 text-center">
          <button
            type="button"
            onClick={onLoadMore}
            disabled={loadingMore}
            className="text-sm text-blue-700 underline underline-offset-2 dark:text-blue-300"
          >
            {loadingMore ? "Loading more…" : "Load more"}
          </button>
        </div>
      )}
    </div>
  );
}
