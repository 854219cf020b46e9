"use client";
/** Toasts with an optional action (Undo), announced politely to screen readers. */
import { createContext, useCallback, useContext, useMemo, useRef, useState, type ReactNode } from "react";

export interface ToastOptions {
  message: string;
  tone?: "info" | "error";
  action?: { label: string; onClick: () => void };
  /** Milliseconds; default 6 s (errors 8 s). */
  duration?: number;
  /** Called when the toast goes away without its action being used. */
  onExpire?: () => void;
}

interface ToastItem extends ToastOptions {
  id: number;
}

interface ToastApi {
  show: (options: ToastOptions) => number;
  dismiss: (id: number) => void;
}

const ToastContext = createContext<ToastApi | null>(null);

export function useToast(): ToastApi {
  const ctx = useContext(ToastContext);
  if (!ctx) throw new Error("useToast needs <ToastProvider>");
  return ctx;
}

export function ToastProvider({ children }: { children: ReactNode }) {
  const [items, setItems] = useState<ToastItem[]>([]);
  const nextId = useRef(1);
  const timers = useRef(new Map<number, ReturnType<typeof setTimeout>>());
  const itemsRef = useRef<ToastItem[]>([]);
  itemsRef.current = items;

  const remove = useCallback((id: number, expired: boolean) => {
    const timer = timers.current.get(id);
    if (timer) clearTimeout(timer);
    timers.current.delete(id);
    const item = itemsRef.current.find((t) => t.id === id);
    setItems((list) => list.filter((t) => t.id !== id));
    if (expired) item?.onExpire?.();
  }, []);

  const show = useCallback(
    (options: ToastOptions) => {
      const id = nextId.current++;
      setItems((list) => [...list.slice(-3), { ...options, id }]);
      const duration = options.duration ?? (options.tone === "error" ? 8000 : 6000);
      timers.current.set(
        id,
        setTimeout(() => remove(id, true), duration),
      );
      return id;
    },
    [remove],
  );

  const api = useMemo<ToastApi>(() => ({ show, dismiss: (id) => remove(id, true) }), [show, remove]);

  return (
    <ToastContext.Provider value={api}>
      {children}
      <div
        role="status"
        aria-live="polite"
        className="pointer-events-none fixed inset-x-0 bottom-3 z-50 flex flex-col items-center gap-2 px-3"
      >
        {items.map((t) => (
          <div
            key={t.id}
            className={`pointer-events-auto flex w-full max-w-md items-center justify-between gap-3 rounded-lg px-4 py-3 text-sm shadow-lg ${
              t.tone === "error" ? "bg-red-800 text-white" : "bg-slate-900 text-white dark:bg-slate-100 dark:text-slate-900"
            }`}
          >
            <span>{t.message}</span>
            <span className="flex shrink-0 gap-2">
              {t.action && (
                <button
                  type="button"
                  className="rounded px-2 py-1 font-semibold underline underline-offset-2 hover:bg-white/10"
                  onClick={() => {
                    t.action?.onClick();
                    remove(t.id, false);
                  }}
                >
                  {t.action.label}
                </button>
              )}
              <button
                type="button"
                aria-label="Dismiss"
                className="rounded px-1 hover:bg-white/10"
                onClick={() => remove(t.id, true)}
              >
                ×
              </button>
            </span>
          </div>
        ))}
      </div>
    </ToastContext.Provider>
  );
}
