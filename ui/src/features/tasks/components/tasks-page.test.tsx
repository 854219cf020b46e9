import { act, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { http, HttpResponse } from "msw";
import { describe, expect, it, vi } from "vitest";
import { ToastProvider } from "@/components/ui/toast";
import { db, requestsTo, seed, server } from "@/test/server";
import { TasksPage } from "./tasks-page";

function renderPage() {
  return render(
    <ToastProvider>
      <TasksPage />
    </ToastProvider>,
  );
}

describe("TasksPage", () => {
  it("shows the empty state for a new user", async () => {
    renderPage();
    expect(await screen.findByText("No tasks yet")).toBeInTheDocument();
  });

  it("lists tasks with their badges", async () => {
    seed(
      { title: "Pay rent", priority: "high", due_date: new Date(Date.now() - 3600_000).toISOString(), tags: ["home"] },
      { title: "Water plants", is_recurring: true, recurrence_rule: "weekly" },
    );
    renderPage();
    const card = (await screen.findByRole("link", { name: "Pay rent" })).closest("article") as HTMLElement;
    expect(within(card).getByText("Overdue")).toBeInTheDocument();
    expect(within(card).getByRole("button", { name: "Filter by tag home" })).toBeInTheDocument();
    expect(screen.getByText("Every week")).toBeInTheDocument();
    expect(screen.getByText("2 tasks")).toBeInTheDocument();
  });

  it("shows an error with a retry", async () => {
    server.use(http.get("*/api/tasks", () => HttpResponse.json({ detail: "database unavailable" }, { status: 503 })));
    renderPage();
    expect(await screen.findByRole("alert")).toHaveTextContent("database unavailable");
    server.resetHandlers();
    seed({ title: "Back again" });
    await userEvent.click(screen.getByRole("button", { name: "Try again" }));
    expect(await screen.findByText("Back again")).toBeInTheDocument();
  });

  it("debounces search into one request and filters by status", async () => {
    seed({ title: "Buy milk" }, { title: "Call mom", status: "completed" });
    const user = userEvent.setup();
    renderPage();
    await screen.findByText("Buy milk");
    const before = requestsTo("GET", "/api/tasks").length;
    await user.type(screen.getByRole("searchbox", { name: "Search tasks" }), "milk");
    await waitFor(() => expect(screen.queryByText("Call mom")).not.toBeInTheDocument());
    const searches = requestsTo("GET", "/api/tasks").slice(before).map((r) => r.url.searchParams.get("search"));
    expect(searches).toEqual(["milk"]);
    await user.clear(screen.getByRole("searchbox", { name: "Search tasks" }));
    await user.selectOptions(screen.getByRole("combobox", { name: "Status" }), "completed");
    expect(await screen.findByText("Call mom")).toBeInTheDocument();
    await waitFor(() => expect(screen.queryByText("Buy milk")).not.toBeInTheDocument());
    expect(window.location.search).toContain("status=completed");
  });

  it("completes optimistically and can undo", async () => {
    const [task] = seed({ title: "Write report" });
    const user = userEvent.setup();
    renderPage();
    const box = await screen.findByRole("checkbox", { name: 'Mark "Write report" as done' });
    await user.click(box);
    expect(screen.getByRole("checkbox", { name: 'Mark "Write report" as not done' })).toBeChecked();
    await waitFor(() => expect(db.tasks[0]?.status).toBe("completed"));
    await user.click(await screen.findByRole("button", { name: "Undo" }));
    await waitFor(() => expect(db.tasks[0]?.status).toBe("pending"));
    expect(requestsTo("POST", `/api/tasks/${task?.id}/complete`)).toHaveLength(2);
  });

  it("rolls back an optimistic change the server refuses", async () => {
    seed({ title: "Fragile" });
    server.use(http.post("*/api/tasks/:id/complete", () => HttpResponse.json({ detail: "nope" }, { status: 409 })));
    const user = userEvent.setup();
    renderPage();
    await user.click(await screen.findByRole("checkbox", { name: 'Mark "Fragile" as done' }));
    expect(await screen.findByText(/Could not update "Fragile": nope/)).toBeInTheDocument();
    expect(screen.getByRole("checkbox", { name: 'Mark "Fragile" as done' })).not.toBeChecked();
  });

  it("deletes after the undo window, and undo keeps the task", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    try {
      seed({ title: "Keep me" }, { title: "Drop me" });
      const user = userEvent.setup({ advanceTimers: vi.advanceTimersByTime });
      renderPage();
      await user.click(await screen.findByRole("button", { name: 'Delete "Keep me"' }));
      expect(screen.queryByText("Keep me")).not.toBeInTheDocument();
      await user.click(screen.getByRole("button", { name: "Undo" }));
      expect(screen.getByText("Keep me")).toBeInTheDocument();

      await user.click(screen.getByRole("button", { name: 'Delete "Drop me"' }));
      expect(requestsTo("DELETE", "/api/tasks")).toHaveLength(0);
      await act(async () => {
        vi.advanceTimersByTime(6500);
      });
      await waitFor(() => expect(requestsTo("DELETE", "/api/tasks")).toHaveLength(1));
      expect(db.tasks.map((t) => t.title)).toEqual(["Keep me"]);
    } finally {
      vi.useRealTimers();
    }
  });

  it("changes priority inline", async () => {
    seed({ title: "Inline" });
    const user = userEvent.setup();
    renderPage();
    await user.selectOptions(await screen.findByRole("combobox", { name: 'Priority of "Inline"' }), "high");
    await waitFor(() => expect(db.tasks[0]?.priority).toBe("high"));
    expect(requestsTo("PATCH", "/api/tasks")[0]?.body).toEqual({ priority: "high" });
  });

  it("opens the form with n, creates a task and shows it", async () => {
    const user = userEvent.setup();
    renderPage();
    await screen.findByText("No tasks yet");
    await user.keyboard("n");
    const dialog = await screen.findByRole("dialog", { name: "New task" });
    await user.type(await within(dialog).findByLabelText("Title"), "Plan trip");
    await user.type(within(dialog).getByLabelText("Tags"), "travel{Enter}");
    await user.click(within(dialog).getByRole("button", { name: "Create task" }));
    expect(await screen.findByRole("link", { name: "Plan trip" })).toBeInTheDocument();
    const body = requestsTo("POST", "/api/tasks")[0]?.body as Record<string, unknown>;
    expect(body.title).toBe("Plan trip");
    expect(body.tags).toEqual(["travel"]);
    expect(body.idempotency_key).toBeUndefined();
    expect(requestsTo("POST", "/api/tasks")[0]?.headers.get("Idempotency-Key")).toBeTruthy();
  });

  it("focuses search with / and opens help with ?", async () => {
    const user = userEvent.setup();
    renderPage();
    await screen.findByText("No tasks yet");
    await user.keyboard("/");
    expect(screen.getByRole("searchbox", { name: "Search tasks" })).toHaveFocus();
    await user.click(document.body);
    await user.keyboard("?");
    expect(await screen.findByRole("dialog", { name: "Keyboard shortcuts" })).toBeInTheDocument();
  });

  it("loads more pages as the list grows", async () => {
    seed(...Array.from({ length: 150 }, (_, i) => ({ title: `Bulk ${i}` })));
    renderPage();
    expect(await screen.findByText("150 tasks")).toBeInTheDocument();
    const offsets = () => requestsTo("GET", "/api/tasks").map((r) => r.url.searchParams.get("offset"));
    await userEvent.click(screen.getByRole("button", { name: "Load more" }));
    await waitFor(() => expect(offsets()).toContain("100"));
    await waitFor(() => expect(screen.queryByRole("button", { name: /Load more/ })).not.toBeInTheDocument());
    // Only the rows near the viewport are in the DOM.
    expect(screen.getAllByTestId("task-card").length).toBeLessThan(40);
  });
});
