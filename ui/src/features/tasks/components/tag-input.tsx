"use client";
/** Chip input for tags, suggesting the tags that already exist (native <datalist>). */
import { useId, useState, type KeyboardEvent } from "react";

export const MAX_TAGS = 20;
export const MAX_TAG_LENGTH = 50;

export function TagInput({
  id,
  value,
  onChange,
  suggestions,
  invalid,
  describedBy,
}: {
  id: string;
  value: string[];
  onChange: (tags: string[]) => void;
  suggestions: string[];
  invalid?: boolean;
  describedBy?: string;
}) {
  const [draft, setDraft] = useState("");
  const listId = useId();

  const add = (raw: string) => {
    const tag = raw.trim().slice(0, MAX_TAG_LENGTH);
    setDraft("");
    if (!tag || value.length >= MAX_TAGS) return;
    if (value.some((t) => t.toLowerCase() === tag.toLowerCase())) return;
    onChange([...value, tag]);
  };

  const onKeyDown = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === "Enter" || e.key === ",") {
      if (draft.trim()) {
        e.preventDefault();
        add(draft);
      } else if (e.key === ",") e.preventDefault();
    } else if (e.key === "Backspace" && draft === "" && value.length > 0) {
      onChange(value.slice(0, -1));
    }
  };

  const available = suggestions.filter((s) => !value.includes(s));

  return (
    <div
      className={`field flex min-h-[38px] flex-wrap items-center gap-1 py-1 ${invalid ? "border-red-600 dark:border-red-400" : ""}`}
    >
      <ul className="contents" aria-label="Selected tags">
        {value.map((tag) => (
          <li
            key={tag}
            className="inline-flex items-center gap-1 rounded-full bg-slate-200 py-0.5 pr-1 pl-2 text-xs text-slate-800 dark:bg-slate-700 dark:text-slate-100"
          >
            {tag}
            <button
              type="button"
              className="rounded-full px-1 hover:bg-slate-300 dark:hover:bg-slate-600"
              aria-label={`Remove tag ${tag}`}
              onClick={() => onChange(value.filter((t) => t !== tag))}
            >
              ×
            </button>
          </li>
        ))}
      </ul>
      <input
        id={id}
        list={listId}
        value={draft}
        maxLength={MAX_TAG_LENGTH}
        aria-invalid={invalid || undefined}
        aria-describedby={describedBy}
        placeholder={value.length ? "" : "Add tags (Enter)"}
        className="min-w-24 flex-1 border-0 bg-transparent p-0.5 text-sm outline-none focus:ring-0"
        onChange={(e) => {
          const next = e.target.value;
          const inputType = (e.nativeEvent as InputEvent).inputType;
          // Picking a datalist suggestion fires an input event without a typing inputType.
          if ((!inputType || inputType === "insertReplacementText") && available.includes(next)) add(next);
          else if (next.endsWith(",")) add(next.slice(0, -1));
          else setDraft(next);
        }}
        onKeyDown={onKeyDown}
        onBlur={() => draft.trim() && add(draft)}
      />
      <datalist id={listId}>
        {available.map((s) => (
          <option key={s} value={s} />
        ))}
      </datalist>
    </div>
  );
}
