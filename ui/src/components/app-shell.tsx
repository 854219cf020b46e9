"use client";
/** Header (navigation, bell, theme) and the toast provider around every page. */
import { lazy, Suspense, type ReactNode } from "react";
import { useAuditAvailable } from "@/lib/use-audit-available";
import { ThemeToggle } from "./ui/theme-toggle";
import { ToastProvider } from "./ui/toast";

// The bell polls after the page is up; it need not be in the first load.
const NotificationBell = lazy(() =>
  import("@/features/notifications/components/notification-bell").then((m) => ({ default: m.NotificationBell })),
);

export function AppShell({ current, children }: { current: "tasks" | "activity" | "task"; children: ReactNode }) {
  const audit = useAuditAvailable();
  const link = (href: string, label: string, active: boolean) => (
    <a
      href={href}
      aria-current={active ? "page" : undefined}
      className={`rounded-md px-2 py-1.5 text-sm font-medium ${
        active
          ? "bg-slate-200 text-slate-900 dark:bg-slate-700 dark:text-white"
          : "text-slate-700 hover:bg-slate-100 dark:text-slate-200 dark:hover:bg-slate-800"
      }`}
    >
      {label}
    </a>
  );
  return (
    <ToastProvider>
      <a
        href="#main"
        className="sr-only focus:not-sr-only focus:fixed focus:top-2 focus:left-2 focus:z-50 focus:rounded focus:bg-white focus:px-3 focus:py-2 focus:text-slate-900"
      >
        Skip to content
      </a>
      <header className="sticky top-0 z-30 border-b border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-950">
        <div className="mx-auto flex max-w-4xl items-center gap-2 px-3 py-2">
          <a href="/" className="mr-2 flex items-center gap-1.5 text-lg font-bold">
            <span aria-hidden="true" className="inline-block h-5 w-5 rounded bg-blue-700 text-center text-sm leading-5 text-white">
              ✓
            </span>
            Todo
          </a>
          <nav aria-label="Main" className="flex gap-1">
            {link("/", "Tasks", current === "tasks")}
            {audit && link("/activity/", "Activity", current === "activity")}
          </nav>
          <div className="ml-auto flex items-center gap-1">
            <Suspense fallback={null}>
              <NotificationBell />
            </Suspense>
            <ThemeToggle />
          </div>
        </div>
      </header>
      <main id="main" className="mx-auto max-w-4xl px-3 py-4">
        {children}
      </main>
    </ToastProvider>
  );
}
