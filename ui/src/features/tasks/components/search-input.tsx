"use client";
import { forwardRef } from "react";

/** The search box; the list debounces what it types (see TasksPage). */
export const SearchInput = forwardRef<HTMLInputElement, { value: string; onChange: (v: string) => void }>(
  function SearchInput({ value, onChange }, ref) {
    return (
      <div className="relative min-w-0 flex-1">
        <label htmlFor="task-search" className="sr-only">
          Search tasks
        </label>
        <input
          ref={ref}
          id="task-search"
          type="search"
          value={value}
          onChange={(e) => onChange(e.target.value)}
          placeholder="Search tasks  ( / )"
          autoComplete="off"
          className="field w-full pl-8"
        />
        <svg
          aria-hidden="true"
          viewBox="0 0 20 20"
          fill="currentColor"
          className="pointer-events-none absolute top-1/2 left-2.5 h-4 w-4 -translate-y-1/2 text-slate-500 dark:text-slate-400"
        >
          <path d="M8.5 3a5.5 5.5 0 0 1 4.38 8.83l3.65 3.64a.75.75 0 1 1-1.06 1.06l-3.64-3.65A5.5 5.5 0 1 1 8.5 3Zm0 1.5a4 4 0 1 0 0 8 4 4 0 0 0 0-8Z" />
        </svg>
      </div>
    );
  },
);
