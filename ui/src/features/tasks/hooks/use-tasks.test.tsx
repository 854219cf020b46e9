import { act, renderHook, waitFor } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { db, makeTask, seed } from "@/test/server";
import { DEFAULT_FILTERS } from "../types";
import { PAGE_SIZE, useTasks } from "./use-tasks";

describe("useTasks", () => {
  it("pages, skips rows it already has when offsets shift, and hides rows locally", async () => {
    seed(...Array.from({ length: PAGE_SIZE + 5 }, (_, i) => ({ title: `T${i}` })));
    const { result } = renderHook(() => useTasks(DEFAULT_FILTERS));
    await waitFor(() => expect(result.current.status).toBe("ready"));
    expect(result.current.tasks).toHaveLength(PAGE_SIZE);
    expect(result.current.hasMore).toBe(true);

    // Someone adds a task meanwhile: the newest-first offsets shift by one.
    db.tasks.push(makeTask({ title: "Newcomer", created_at: "2099-01-01T00:00:00Z" }));
    act(() => result.current.loadMore());
    await waitFor(() => expect(result.current.loadingMore).toBe(false));
    const ids = result.current.tasks.map((t) => t.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(result.current.tasks).toHaveLength(PAGE_SIZE + 5);

    const first = result.current.tasks[0];
    act(() => result.current.hide(first?.id ?? ""));
    expect(result.current.tasks.some((t) => t.id === first?.id)).toBe(false);
    act(() => result.current.unhide(first?.id ?? ""));
    expect(result.current.tasks[0]?.id).toBe(first?.id);
  });
});
