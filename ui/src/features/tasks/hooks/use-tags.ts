"use client";
import { useCallback, useEffect, useState } from "react";
import { listTags } from "../api/list-tags";
import type { TagCount } from "../types";

/** Existing tags with their counts (for the tag filter and the chip input's suggestions). */
export function useTags(): { tags: TagCount[]; reload: () => void } {
  const [tags, setTags] = useState<TagCount[]>([]);
  const [nonce, setNonce] = useState(0);
  useEffect(() => {
    const controller = new AbortController();
    listTags(controller.signal)
      .then(setTags)
      .catch(() => {
        /* suggestions are optional */
      });
    return () => controller.abort();
  }, [nonce]);
  return { tags, reload: useCallback(() => setNonce((n) => n + 1), []) };
}
