"use client";
/** Bell with the unread count and a popover list; hidden when the server has no notifications feature. */
import { useEffect, useRef, useState } from "react";
import { formatDateTime } from "@/lib/datetime";
import { useNotifications } from "../hooks/use-notifications";

export function NotificationBell() {
  const { items, unread, available, markRead } = useNotifications();
  const [open, setOpen] = useState(false);
  const [permission, setPermission] = useState<NotificationPermission | "unsupported">("unsupported");
  const box = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (typeof Notification !== "undefined") setPermission(Notification.permission);
  }, []);
  useEffect(() => {
    if (!open) return;
    const onDown = (e: MouseEvent) => {
      if (box.current && !box.current.contains(e.target as Node)) setOpen(false);
    };
    const onKey = (e: KeyboardEvent) => e.key === "Escape" && setOpen(false);
    document.addEventListener("mousedown", onDown);
    document.addEventListener("keydown", onKey);
    return () => {
      document.removeEventListener("mousedown", onDown);
      document.removeEventListener("keydown", onKey);
    };
  }, [open]);

  if (!available) return null;
  const count = unread;
  return (
    <div ref={box} className="relative">
      <button
        type="button"
        aria-label={count ? `Notifications, ${count} unread` : "Notifications"}
        aria-expanded={open}
        aria-controls="notification-panel"
        onClick={() => setOpen((o) => !o)}
        className="relative rounded-md p-1.5 text-slate-700 hover:bg-slate-100 dark:text-slate-200 dark:hover:bg-slate-800"
      >
        <svg aria-hidden="true" viewBox="0 0 20 20" className="h-5 w-5" fill="none" stroke="currentColor" strokeWidth="1.6">
          <path d="M10 3a4.5 4.5 0 0 0-4.5 4.5v2.7L4 13h12l-1.5-2.8V7.5A4.5 4.5 0 0 0 10 3Zm-2 12a2 2 0 0 0 4 0" />
        </svg>
        {count > 0 && (
          <span
            data-testid="unread-count"
            className="absolute -top-0.5 -right-0.5 min-w-4 rounded-full bg-red-700 px-1 text-center text-[10px] leading-4 font-bold text-white"
          >
            {count > 9 ? "9+" : count}
          </span>
        )}
      </button>
      {open && (
        <div
          id="notification-panel"
          role="region"
          aria-label="Notifications"
          className="absolute right-0 z-40 mt-2 w-80 max-w-[calc(100vw-1.5rem)] rounded-lg border border-slate-200 bg-white p-2 shadow-lg dark:border-slate-700 dark:bg-slate-900"
        >
          {permission === "default" && (
            <button
              type="button"
              className="mb-2 w-full rounded-md bg-slate-100 px-2 py-1.5 text-left text-sm hover:bg-slate-200 dark:bg-slate-800 dark:hover:bg-slate-700"
              onClick={() => void Notification.requestPermission().then(setPermission)}
            >
              Enable desktop notifications
            </button>
          )}
          {items.length === 0 ? (
            <p className="px-2 py-3 text-sm text-slate-600 dark:text-slate-300">You are all caught up.</p>
          ) : (
            <ul className="max-h-80 space-y-1 overflow-y-auto">
              {items.map((n) => (
                <li key={n.id} className="rounded-md px-2 py-1.5 hover:bg-slate-50 dark:hover:bg-slate-800">
                  <a href={`/tasks/view/?id=${encodeURIComponent(n.task_id)}`} className="block text-sm font-medium hover:underline">
                    {n.title}
                  </a>
                  <p className="text-xs text-slate-600 dark:text-slate-300">{n.message}</p>
                  <div className="mt-0.5 flex items-center justify-between text-xs text-slate-600 dark:text-slate-400">
                    <time dateTime={n.created_at}>{formatDateTime(n.created_at)}</time>
                    <button type="button" className="underline underline-offset-2" onClick={() => void markRead(n.id)}>
                      Mark read
                    </button>
                  </div>
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
    </div>
  );
}
