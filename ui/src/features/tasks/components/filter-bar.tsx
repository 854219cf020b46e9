"use client";
import {
  PRIORITIES,
  PRIORITY_LABELS,
  STATUSES,
  STATUS_LABELS,
  type SortField,
  type TagCount,
  type TaskFilters,
} from "../types";

const SORT_LABELS: Record<SortField, string> = {
  created_at: "Newest",
  due_date: "Due date",
  priority: "Priority",
  title: "Title",
};

export function FilterBar({
  filters,
  tags,
  onChange,
}: {
  filters: TaskFilters;
  tags: TagCount[];
  onChange: (next: Partial<TaskFilters>) => void;
}) {
  const active = filters.status || filters.priority || filters.tag || filters.search;
  return (
    <div className="flex flex-wrap items-end gap-2" role="group" aria-label="Filters and sorting">
      <div className="flex flex-col">
        <label htmlFor="filter-status" className="text-xs font-medium text-slate-700 dark:text-slate-300">
          Status
        </label>
        <select
          id="filter-status"
          className="field mt-0.5"
          value={filters.status}
          onChange={(e) => onChange({ status: e.target.value as TaskFilters["status"] })}
        >
          <option value="">All</option>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {STATUS_LABELS[s]}
            </option>
          ))}
        </select>
      </div>
      <div className="flex flex-col">
        <label htmlFor="filter-priority" className="text-xs font-medium text-slate-700 dark:text-slate-300">
          Priority
        </label>
        <select
          id="filter-priority"
          className="field mt-0.5"
          value={filters.priority}
          onChange={(e) => onChange({ priority: e.target.value as TaskFilters["priority"] })}
        >
          <option value="">All</option>
          {PRIORITIES.map((p) => (
            <option key={p} value={p}>
              {PRIORITY_LABELS[p]}
            </option>
          ))}
        </select>
      </div>
      <div className="flex flex-col">
        <label htmlFor="filter-tag" className="text-xs font-medium text-slate-700 dark:text-slate-300">
          Tag
        </label>
        <select
          id="filter-tag" className="field mt-0.5 max-w-40" value={filters.tag} onChange={(e) => onChange({ tag: e.target.value })}>
          <option value="">All</option>
          {filters.tag && !tags.some((t) => t.name === filters.tag) && <option value={filters.tag}>{filters.tag}</option>}
          {tags.map((t) => (
            <option key={t.name} value={t.name}>
              {t.name} ({t.count})
            </option>
          ))}
        </select>
      </div>
      <div className="flex flex-col">
        <label htmlFor="filter-sort" className="text-xs font-medium text-slate-700 dark:text-slate-300">
          Sort by
        </label>
        <select
          id="filter-sort"
          className="field mt-0.5"
          value={filters.sort_by}
          onChange={(e) => onChange({ sort_by: e.target.value as SortField })}
        >
          {(Object.keys(SORT_LABELS) as SortField[]).map((f) => (
            <option key={f} value={f}>
              {SORT_LABELS[f]}
            </option>
          ))}
        </select>
      </div>
      <button
        type="button"
        className="field h-[38px] px-2 text-sm"
        onClick={() => onChange({ sort_order: filters.sort_order === "asc" ? "desc" : "asc" })}
        title="Toggle the sort order"
      >
        <span className="sr-only">Sort order: </span>
        <span aria-hidden="true">{filters.sort_order === "asc" ? "↑" : "↓"} </span>
        {filters.sort_order === "asc" ? "Asc" : "Desc"}
      </button>
      {active && (
        <button
          type="button"
          className="h-[38px] rounded-md px-2 text-sm text-blue-700 underline underline-offset-2 dark:text-blue-300"
          onClick={() => onChange({ status: "", priority: "", tag: "", search: "" })}
        >
          Clear filters
        </button>
      )}
    </div>
  );
}
