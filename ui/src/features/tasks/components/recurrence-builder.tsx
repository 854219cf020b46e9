"use client";
/** Builder for the rules the form offers: interval, weekdays, monthly by day or by "Nth weekday", end. */
import { useEffect, useId, useState } from "react";
import { WEEKDAYS, type Frequency, type RuleSpec, type Weekday } from "@/lib/recurrence";

const DAY_SHORT: Record<Weekday, string> = { MO: "Mon", TU: "Tue", WE: "Wed", TH: "Thu", FR: "Fri", SA: "Sat", SU: "Sun" };
const DAY_LONG: Record<Weekday, string> = {
  MO: "Monday",
  TU: "Tuesday",
  WE: "Wednesday",
  TH: "Thursday",
  FR: "Friday",
  SA: "Saturday",
  SU: "Sunday",
};
const UNITS: Record<Frequency, string> = { DAILY: "day(s)", WEEKLY: "week(s)", MONTHLY: "month(s)", YEARLY: "year(s)" };

/** A number box that lets the person clear it while typing; only valid values reach `onChange`. */
function IntField({
  id,
  value,
  onChange,
  label,
  disabled,
}: {
  id?: string;
  value: number;
  onChange: (n: number) => void;
  label?: string;
  disabled?: boolean;
}) {
  const [text, setText] = useState(String(value));
  useEffect(() => setText((t) => (Number(t) === value ? t : String(value))), [value]);
  return (
    <input
      id={id}
      type="number"
      inputMode="numeric"
      min={1}
      max={999}
      aria-label={label}
      disabled={disabled}
      value={text}
      className="field w-20"
      onChange={(e) => {
        setText(e.target.value);
        const n = Number(e.target.value);
        if (Number.isInteger(n) && n >= 1 && n <= 999) onChange(n);
      }}
      onBlur={() => setText(String(value))}
    />
  );
}

export function RecurrenceBuilder({ spec, onChange }: { spec: RuleSpec; onChange: (spec: RuleSpec) => void }) {
  const id = useId();
  const set = (patch: Partial<RuleSpec>) => onChange({ ...spec, ...patch });
  return (
    <fieldset className="space-y-3 rounded-md border border-slate-200 p-3 dark:border-slate-700">
      <legend className="px-1 text-sm font-medium">Custom repeat</legend>
      <div className="flex flex-wrap items-center gap-2 text-sm">
        <label htmlFor={`${id}-interval`}>Every</label>
        <IntField id={`${id}-interval`} value={spec.interval} onChange={(interval) => set({ interval })} />
        <label htmlFor={`${id}-freq`} className="sr-only">
          Unit
        </label>
        <select
          id={`${id}-freq`}
          className="field"
          value={spec.freq}
          onChange={(e) => set({ freq: e.target.value as Frequency })}
        >
          {(Object.keys(UNITS) as Frequency[]).map((f) => (
            <option key={f} value={f}>
              {UNITS[f]}
            </option>
          ))}
        </select>
      </div>

      {spec.freq === "WEEKLY" && (
        <fieldset>
          <legend className="mb-1 text-sm">On</legend>
          <div className="flex flex-wrap gap-1">
            {WEEKDAYS.map((d) => {
              const on = spec.byDay.includes(d);
              return (
                <label
                  key={d}
                  className={`relative cursor-pointer rounded-md border px-2 py-1 text-sm has-[:focus-visible]:ring-2 has-[:focus-visible]:ring-blue-500 ${
                    on
                      ? "border-blue-700 bg-blue-700 text-white dark:border-blue-400 dark:bg-blue-400 dark:text-slate-950"
                      : "border-slate-300 dark:border-slate-600"
                  }`}
                >
                  <input
                    type="checkbox"
                    className="sr-only"
                    checked={on}
                    aria-label={DAY_LONG[d]}
                    onChange={() => set({ byDay: on ? spec.byDay.filter((x) => x !== d) : [...spec.byDay, d] })}
                  />
                  <span aria-hidden="true">{DAY_SHORT[d]}</span>
                </label>
              );
            })}
          </div>
        </fieldset>
      )}

      {spec.freq === "MONTHLY" && (
        <fieldset className="space-y-2 text-sm">
          <legend className="mb-1">On</legend>
          <div className="flex flex-wrap items-center gap-2">
            <input
              type="radio"
              id={`${id}-mday`}
              name={`${id}-monthly`}
              checked={spec.monthlyMode === "day"}
              onChange={() => set({ monthlyMode: "day" })}
            />
            <label htmlFor={`${id}-mday`}>day</label>
            <label htmlFor={`${id}-mday-n`} className="sr-only">
              Day of month
            </label>
            <select
              id={`${id}-mday-n`}
              className="field"
              value={spec.monthDay}
              disabled={spec.monthlyMode !== "day"}
              onChange={(e) => set({ monthDay: Number(e.target.value) })}
            >
              {Array.from({ length: 31 }, (_, i) => i + 1).map((n) => (
                <option key={n} value={n}>
                  {n}
                </option>
              ))}
              <option value={-1}>last</option>
            </select>
          </div>
          <div className="flex flex-wrap items-center gap-2">
            <input
              type="radio"
              id={`${id}-mwd`}
              name={`${id}-monthly`}
              checked={spec.monthlyMode === "weekday"}
              onChange={() => set({ monthlyMode: "weekday" })}
            />
            <label htmlFor={`${id}-mwd`}>the</label>
            <label htmlFor={`${id}-ord`} className="sr-only">
              Which week
            </label>
            <select
              id={`${id}-ord`}
              className="field"
              value={spec.ordinal}
              disabled={spec.monthlyMode !== "weekday"}
              onChange={(e) => set({ ordinal: Number(e.target.value) })}
            >
              <option value={1}>1st</option>
              <option value={2}>2nd</option>
              <option value={3}>3rd</option>
              <option value={4}>4th</option>
              <option value={-1}>last</option>
            </select>
            <label htmlFor={`${id}-owd`} className="sr-only">
              Weekday
            </label>
            <select
              id={`${id}-owd`}
              className="field"
              value={spec.ordinalDay}
              disabled={spec.monthlyMode !== "weekday"}
              onChange={(e) => set({ ordinalDay: e.target.value as Weekday })}
            >
              {WEEKDAYS.map((d) => (
                <option key={d} value={d}>
                  {DAY_LONG[d]}
                </option>
              ))}
            </select>
          </div>
        </fieldset>
      )}

      <fieldset className="space-y-2 text-sm">
        <legend className="mb-1">Ends</legend>
        <div className="flex items-center gap-2">
          <input
            type="radio"
            id={`${id}-never`}
            name={`${id}-end`}
            checked={spec.end === "never"}
            onChange={() => set({ end: "never" })}
          />
          <label htmlFor={`${id}-never`}>Never</label>
        </div>
        <div className="flex flex-wrap items-center gap-2">
          <input
            type="radio"
            id={`${id}-count`}
            name={`${id}-end`}
            checked={spec.end === "count"}
            onChange={() => set({ end: "count" })}
          />
          <label htmlFor={`${id}-count`}>After</label>
          <IntField label="Number of times" value={spec.count} disabled={spec.end !== "count"} onChange={(count) => set({ count })} />
          <span>times</span>
        </div>
        <div className="flex flex-wrap items-center gap-2">
          <input
            type="radio"
            id={`${id}-until`}
            name={`${id}-end`}
            checked={spec.end === "until"}
            onChange={() => set({ end: "until" })}
          />
          <label htmlFor={`${id}-until`}>On</label>
          <input
            type="date"
            aria-label="End date"
            className="field"
            value={spec.until}
            disabled={spec.end !== "until"}
            onChange={(e) => set({ until: e.target.value })}
          />
        </div>
      </fieldset>
    </fieldset>
  );
}
