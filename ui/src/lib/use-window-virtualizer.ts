"use client";
/**
 * A small window-scrolling virtualizer with measured row heights (hand-written: a library cost ~5 KB
 * gzip of the 150 KB first-load budget). Only the rows in or near the viewport are rendered; each
 * rendered row reports its height through one shared ResizeObserver and unmeasured rows use an estimate.
 */
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";

const useIsoLayoutEffect = typeof window === "undefined" ? useEffect : useLayoutEffect;

export interface VirtualRow {
  index: number;
  key: string;
  start: number;
}

export function useWindowVirtualizer({
  keys,
  estimate,
  overscanPx = 800,
}: {
  keys: string[];
  estimate: number;
  overscanPx?: number;
}) {
  const containerRef = useRef<HTMLDivElement | null>(null);
  const heights = useRef(new Map<string, number>());
  const [version, setVersion] = useState(0);
  const [viewport, setViewport] = useState({ top: 0, bottom: 1000 });

  // Prefix sums of row heights: offsets[i] = top of row i, offsets[n] = total height.
  const offsets = useMemo(() => {
    const out = new Float64Array(keys.length + 1);
    for (let i = 0; i < keys.length; i++) out[i + 1] = (out[i] ?? 0) + (heights.current.get(keys[i] ?? "") ?? estimate);
    return out;
  }, [keys, estimate, version]);

  const measureViewport = useCallback(() => {
    const el = containerRef.current;
    if (!el) return;
    const top = el.getBoundingClientRect().top; // list top relative to the viewport
    const next = { top: -top - overscanPx, bottom: -top + window.innerHeight + overscanPx };
    setViewport((prev) =>
      Math.abs(prev.top - next.top) < 40 && Math.abs(prev.bottom - next.bottom) < 40 ? prev : next,
    );
  }, [overscanPx]);

  useIsoLayoutEffect(() => {
    measureViewport();
  }, [measureViewport, keys.length]);

  useEffect(() => {
    let frame = 0;
    const onScroll = () => {
      if (frame) return;
      frame = requestAnimationFrame(() => {
        frame = 0;
        measureViewport();
      });
    };
    window.addEventListener("scroll", onScroll, { passive: true });
    window.addEventListener("resize", onScroll);
    return () => {
      cancelAnimationFrame(frame);
      window.removeEventListener("scroll", onScroll);
      window.removeEventListener("resize", onScroll);
    };
  }, [measureViewport]);

  const observer = useMemo(() => {
    if (typeof ResizeObserver === "undefined") return null;
    return new ResizeObserver((entries) => {
      let changed = false;
      for (const entry of entries) {
        const el = entry.target as HTMLElement;
        const key = el.dataset.key;
        if (!key) continue;
        const h = Math.round(el.getBoundingClientRect().height);
        if (h > 0 && heights.current.get(key) !== h) {
          heights.current.set(key, h);
          changed = true;
        }
      }
      if (changed) setVersion((v) => v + 1);
    });
  }, []);
  useEffect(() => () => observer?.disconnect(), [observer]);

  const measureRef = useCallback(
    (el: HTMLElement | null) => {
      if (!el || !observer) return;
      observer.observe(el);
      return () => observer.unobserve(el);
    },
    [observer],
  );

  // Binary search for the first row whose bottom is below the viewport top.
  const n = keys.length;
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((offsets[mid + 1] ?? 0) <= viewport.top) lo = mid + 1;
    else hi = mid;
  }
  const rows: VirtualRow[] = [];
  for (let i = lo; i < n && (offsets[i] ?? 0) < viewport.bottom; i++) {
    rows.push({ index: i, key: keys[i] ?? String(i), start: offsets[i] ?? 0 });
  }

  return { containerRef, rows, totalSize: offsets[n] ?? 0, measureRef };
}
