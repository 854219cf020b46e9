"use client";
/** /activity/: the chart and the global feed (GET /api/activity), paged. */
import { useCallback, useEffect, useMemo, useState } from "react";
import { errorMessage, isNotFound } from "@/lib/api-client";
import { formatDateTime } from "@/lib/datetime";
import { Button } from "@/components/ui/button";
import { EmptyState } from "@/components/ui/empty-state";
import { Spinner } from "@/components/ui/spinner";
import { eventLabel, eventSummary, eventTitle } from "@/features/tasks/event-labels";
import type { TaskEvent } from "@/features/tasks/types";
import { listActivity } from "../api/list-activity";
import { dailyCounts } from "../daily-counts";
import { ActivityChart } from "./activity-chart";

const DAYS = 14;
const PAGE = 50;

export function ActivityPage() {
  const [chart, setChart] = useState<TaskEvent[] | null>(null);
  const [feed, setFeed] = useState<{ events: TaskEvent[]; total: number } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [missing, setMissing] = useState(false);
  const [loadingMore, setLoadingMore] = useState(false);

  useEffect(() => {
    const controller = new AbortController();
    const fail = (err: unknown) => {
      if (controller.signal.aborted) return;
      if (isNotFound(err)) setMissing(true);
      else setError(errorMessage(err));
    };
    listActivity({ limit: PAGE }, controller.signal).then(setFeed, fail);
    // The chart counts created/completed events of the last DAYS days: pages of 200 (the API's
    // maximum), newest first, until the window is covered (at most 10 pages per type).
    const since = Date.now() - DAYS * 86400000;
    const collect = async (eventType: string) => {
      const out: TaskEvent[] = [];
      for (let page = 0; page < 10; page++) {
        const res = await listActivity({ limit: 200, offset: page * 200, eventType }, controller.signal);
        out.push(...res.events);
        const oldest = res.events[res.events.length - 1];
        if (res.events.length < 200 || !oldest || Date.parse(oldest.timestamp) < since) break;
      }
      return out;
    };
    Promise.all([collect("task.created"), collect("task.completed")]).then(([a, b]) => setChart([...a, ...b]), fail);
    return () => controller.abort();
  }, []);

  // Some events (updates, recurrence) carry no title: borrow it from another event of the same task.
  const titles = useMemo(() => {
    const map = new Map<string, string>();
    for (const ev of [...(feed?.events ?? []), ...(chart ?? [])]) {
      const t = eventTitle(ev);
      if (t && !map.has(ev.task_id)) map.set(ev.task_id, t);
    }
    return map;
  }, [feed, chart]);

  const more = useCallback(() => {
    if (!feed) return;
    setLoadingMore(true);
    listActivity({ limit: PAGE, offset: feed.events.length })
      .then((page) => setFeed({ events: [...feed.events, ...page.events], total: page.total }))
      .catch((err: unknown) => setError(errorMessage(err)))
      .finally(() => setLoadingMore(false));
  }, [feed]);

  return (
    <div className="space-y-4">
      <h1 className="text-2xl font-bold">Activity</h1>
      {missing && <EmptyState title="Activity is not available on this server yet" />}
      {error && (
        <p role="alert" className="text-red-700 dark:text-red-400">
          Could not load the activity: {error}
        </p>
      )}
      {!missing && !error && (
        <>
          {chart ? <ActivityChart data={dailyCounts(chart, DAYS)} /> : <Spinner label="Loading chart" />}
          <section aria-labelledby="feed-heading">
            <h2 id="feed-heading" className="mb-2 text-lg font-semibold">
              Recent events
            </h2>
            {!feed && <Spinner label="Loading events" />}
            {feed && feed.events.length === 0 && <EmptyState title="Nothing has happened yet" />}
            {feed && feed.events.length > 0 && (
              <ul className="divide-y divide-slate-200 rounded-lg border border-slate-200 bg-white dark:divide-slate-700 dark:border-slate-700 dark:bg-slate-900">
                {feed.events.map((ev) => (
                  <li key={ev.id} className="flex flex-wrap items-baseline justify-between gap-2 px-3 py-2 text-sm">
                    <span>
                      <span className="font-medium">{eventLabel(ev)}</span>{" "}
                      <a className="text-blue-700 underline dark:text-blue-300" href={`/tasks/view/?id=${encodeURIComponent(ev.task_id)}`}>
                        {eventTitle(ev) ?? titles.get(ev.task_id) ?? "a task"}
                      </a>
                      {eventSummary(ev) && eventSummary(ev) !== eventTitle(ev) && (
                        <span className="text-slate-600 dark:text-slate-300"> · {eventSummary(ev)}</span>
                      )}
                    </span>
                    <time className="text-xs text-slate-600 dark:text-slate-400" dateTime={ev.timestamp}>
                      {formatDateTime(ev.timestamp)}
                    </time>
                  </li>
                ))}
              </ul>
            )}
            {feed && feed.events.length < feed.total && (
              <Button className="mt-3" onClick={more} disabled={loadingMore}>
                {loadingMore ? "Loading…" : "Load more"}
              </Button>
            )}
          </section>
        </>
      )}
    </div>
  );
}
