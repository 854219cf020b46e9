import { render, screen } from "@testing-library/react";
import { http, HttpResponse } from "msw";
import { describe, expect, it } from "vitest";
import { server } from "@/test/server";
import { TaskHistory } from "./task-history";

describe("TaskHistory", () => {
  it("shows the audit timeline in words", async () => {
    server.use(
      http.get("*/api/tasks/:id/history", () =>
        HttpResponse.json({
          events: [
            { id: "e1", event_type: "task.created", task_id: "t1", timestamp: "2026-12-01T08:00:00Z", payload: { title: "Pay rent" } },
            { id: "e2", event_type: "task.updated", task_id: "t1", timestamp: "2026-12-01T09:00:00Z", payload: { changed: { due_date: "2026-12-02T08:00:00Z", priority: "high" }, version: 2 } },
            { id: "e3", event_type: "task.completed", task_id: "t1", timestamp: "2026-12-02T09:00:00Z", payload: null },
            { id: "e5", event_type: "task.completed", task_id: "t1", timestamp: "2026-12-02T10:00:00Z", payload: { status: "pending" } },
            {
              id: "e4",
              event_type: "task.recurring.triggered",
              task_id: "t1",
              timestamp: "2026-12-02T09:00:01Z",
              payload: { next_due_date: "2026-12-09T08:00:00Z", next_task_id: "t2" },
            },
          ],
          total: 3,
        }),
      ),
    );
    render(<TaskHistory taskId="t1" />);
    const list = await screen.findByRole("list", { name: "Task history" });
    expect(list).toHaveTextContent("Created");
    expect(list).toHaveTextContent("Changed due date, priority");
    expect(list).toHaveTextContent("Completed");
    expect(list).toHaveTextContent("Next occurrence created");
    expect(list).toHaveTextContent("Reopened");
    expect(list).toHaveTextContent(/Next one due .*Dec 9, 2026/);
  });

  it("says so when the server has no history", async () => {
    server.use(http.get("*/api/tasks/:id/history", () => HttpResponse.json({ detail: "Not Found" }, { status: 404 })));
    render(<TaskHistory taskId="t1" />);
    expect(await screen.findByText(/No history is available/)).toBeInTheDocument();
  });
});
