"use client";
/**
 * Whether the server has the audit feature (history and activity). Older servers answer 404:
 * the UI then hides those entry points instead of showing errors. Probed once per page load.
 */
import { useEffect, useState } from "react";
import { apiRequest, isNotFound } from "./api-client";

let probe: Promise<boolean> | null = null;

export function probeAudit(): Promise<boolean> {
  probe ??= apiRequest("/api/activity", { query: { limit: 1 } }).then(
    () => true,
    (err: unknown) => (isNotFound(err) ? false : true),
  );
  return probe;
}

/** For tests. */
export function resetAuditProbe() {
  probe = null;
}

export function useAuditAvailable(): boolean {
  const [available, setAvailable] = useState(false);
  useEffect(() => {
    let live = true;
    void probeAudit().then((ok) => live && setAvailable(ok));
    return () => {
      live = false;
    };
  }, []);
  return available;
}
