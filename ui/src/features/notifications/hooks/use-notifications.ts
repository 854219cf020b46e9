"use client";
/**
 * Polls unread notifications (and on window focus). A 404 means the server has no notifications
 * feature yet: `available` turns false and polling stops. New ones are shown through the browser's
 * Notification API when the user has allowed it.
 */
import { useCallback, useEffect, useRef, useState } from "react";
import { isNotFound } from "@/lib/api-client";
import { listNotifications, type AppNotification } from "../api/list-notifications";
import { markNotificationRead } from "../api/mark-read";

export const POLL_MS = 10000;

export function useNotifications(pollMs: number = POLL_MS) {
  const [items, setItems] = useState<AppNotification[]>([]);
  const [unread, setUnread] = useState(0);
  const [available, setAvailable] = useState(true);
  const seen = useRef<Set<string> | null>(null);

  const poll = useCallback(async () => {
    try {
      const res = await listNotifications({ unread: true, limit: 20 });
      const fresh = res.notifications.filter((n) => !n.read_at);
      if (seen.current) {
        for (const n of fresh) {
          if (seen.current.has(n.id)) continue;
          if (typeof Notification !== "undefined" && Notification.permission === "granted") {
            try {
              new Notification(n.title, { body: n.message, tag: n.id });
            } catch {
              // Some platforms only allow notifications from a service worker.
            }
          }
        }
      }
      seen.current = new Set(fresh.map((n) => n.id).concat(Array.from(seen.current ?? [])));
      setItems(fresh);
      // The list is capped; the server also says how many are unread in all.
      setUnread(typeof res.unread === "number" ? Math.max(res.unread, fresh.length) : fresh.length);
      return true;
    } catch (err) {
      if (isNotFound(err)) {
        setAvailable(false);
        return false;
      }
      return true; // transient: keep polling
    }
  }, []);

  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    const loop = async () => {
      // A hidden tab skips the request (it catches up on focus) but keeps its timer.
      const keep = document.hidden ? true : await poll();
      if (!stopped && keep) timer = setTimeout(loop, pollMs);
    };
    void loop();
    const onFocus = () => void poll();
    window.addEventListener("focus", onFocus);
    return () => {
      stopped = true;
      clearTimeout(timer);
      window.removeEventListener("focus", onFocus);
    };
  }, [poll, pollMs]);

  const markRead = useCallback(async (id: string) => {
    setItems((list) => list.filter((n) => n.id !== id));
    setUnread((n) => Math.max(0, n - 1));
    try {
      await markNotificationRead(id);
    } catch {
      // It will show again on the next poll; nothing else to do.
    }
  }, []);

  return { items, unread, available, markRead, refresh: poll };
}
