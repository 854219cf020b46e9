import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { http, HttpResponse } from "msw";
import { describe, expect, it, vi } from "vitest";
import { requestsTo, seed, server } from "@/test/server";
import { TaskForm } from "./task-form";

describe("TaskForm", () => {
  it("refuses an empty title without calling the server", async () => {
    const onSaved = vi.fn();
    render(<TaskForm task={null} tagSuggestions={[]} onSaved={onSaved} onCancel={() => undefined} />);
    await userEvent.click(screen.getByRole("button", { name: "Create task" }));
    expect(screen.getByText("Give the task a title.")).toBeInTheDocument();
    expect(screen.getByLabelText("Title")).toHaveAttribute("aria-invalid", "true");
    expect(requestsTo("POST", "/api/tasks")).toHaveLength(0);
    expect(onSaved).not.toHaveBeenCalled();
  });

  it("shows the server's field errors", async () => {
    server.use(
      http.post("*/api/tasks", () =>
        HttpResponse.json(
          { detail: "Validation failed", errors: [{ field: "recurrence_rule", message: "BYDAY must not be empty" }] },
          { status: 422 },
        ),
      ),
    );
    const user = userEvent.setup();
    render(<TaskForm task={null} tagSuggestions={[]} onSaved={() => undefined} onCancel={() => undefined} />);
    await user.type(screen.getByLabelText("Title"), "x");
    await user.click(screen.getByRole("button", { name: "Create task" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Validation failed");
    expect(screen.getByText("BYDAY must not be empty")).toBeInTheDocument();
  });

  it("builds a recurrence and previews it in words", async () => {
    const user = userEvent.setup();
    const onSaved = vi.fn();
    render(<TaskForm task={null} tagSuggestions={[]} onSaved={onSaved} onCancel={() => undefined} />);
    await user.type(screen.getByLabelText("Title"), "Gym");
    await user.selectOptions(screen.getByLabelText("Time zone"), "America/New_York");
    await user.type(screen.getByLabelText(/^Due/), "2026-12-01T07:00");
    await user.selectOptions(screen.getByLabelText("Repeat"), "custom");
    const interval = screen.getByLabelText("Every");
    await user.clear(interval);
    await user.type(interval, "2");
    await user.click(screen.getByRole("checkbox", { name: "Monday" }));
    await user.click(screen.getByRole("radio", { name: "After" }));
    const preview = screen.getByTestId("recurrence-preview");
    expect(preview).toHaveTextContent("Every 2 weeks on Monday and Tuesday, 10 times");
    expect(preview).toHaveTextContent(/Next: Tue, Dec 1, 2026/);
    await user.selectOptions(screen.getByLabelText("Reminder"), "before:15");
    await user.click(screen.getByRole("button", { name: "Create task" }));
    await waitFor(() => expect(onSaved).toHaveBeenCalled());
    expect(requestsTo("POST", "/api/tasks")[0]?.body).toMatchObject({
      title: "Gym",
      timezone: "America/New_York",
      due_date: "2026-12-01T07:00:00-05:00",
      reminder_at: "2026-12-01T06:45:00-05:00",
      is_recurring: true,
      recurrence_rule: "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TU;COUNT=10",
    });
  });

  it("sets a reminder N minutes before the due time", async () => {
    const user = userEvent.setup();
    const onSaved = vi.fn();
    render(<TaskForm task={null} tagSuggestions={[]} onSaved={onSaved} onCancel={() => undefined} />);
    await user.type(screen.getByLabelText("Title"), "Flight");
    await user.selectOptions(screen.getByLabelText("Time zone"), "UTC");
    await user.type(screen.getByLabelText(/^Due/), "2026-12-01T10:00");
    await user.selectOptions(screen.getByLabelText("Reminder"), "before:custom");
    const minutes = screen.getByLabelText("Minutes before due");
    await user.clear(minutes);
    await user.type(minutes, "45");
    await user.click(screen.getByRole("button", { name: "Create task" }));
    await waitFor(() => expect(onSaved).toHaveBeenCalled());
    expect(requestsTo("POST", "/api/tasks")[0]?.body).toMatchObject({
      due_date: "2026-12-01T10:00:00+00:00",
      reminder_at: "2026-12-01T09:15:00+00:00",
    });
  });

  it("edits with If-Match and sends only the changed fields", async () => {
    const [task] = seed({ title: "Old", due_date: "2026-12-01T08:00:00Z", timezone: "Europe/Paris", version: 3 });
    const user = userEvent.setup();
    const onSaved = vi.fn();
    render(<TaskForm task={task ?? null} tagSuggestions={["work"]} onSaved={onSaved} onCancel={() => undefined} />);
    expect(screen.getByLabelText(/^Due/)).toHaveValue("2026-12-01T09:00");
    const title = screen.getByLabelText("Title");
    await user.clear(title);
    await user.type(title, "New");
    await user.click(screen.getByRole("button", { name: "Save changes" }));
    await waitFor(() => expect(onSaved).toHaveBeenCalled());
    const req = requestsTo("PATCH", "/api/tasks")[0];
    expect(req?.body).toEqual({ title: "New" });
    expect(req?.headers.get("If-Match")).toBe('"3"');
  });

  it("explains a conflict (412)", async () => {
    const [task] = seed({ title: "Contested", version: 1 });
    server.use(http.patch("*/api/tasks/:id", () => HttpResponse.json({ detail: "mismatch" }, { status: 412 })));
    const user = userEvent.setup();
    render(<TaskForm task={task ?? null} tagSuggestions={[]} onSaved={() => undefined} onCancel={() => undefined} />);
    await user.type(screen.getByLabelText("Title"), "!");
    await user.click(screen.getByRole("button", { name: "Save changes" }));
    expect(await screen.findByRole("alert")).toHaveTextContent(/changed this task meanwhile/);
  });

  it("adds and removes tag chips", async () => {
    const user = userEvent.setup();
    render(<TaskForm task={null} tagSuggestions={["home"]} onSaved={() => undefined} onCancel={() => undefined} />);
    const input = screen.getByLabelText("Tags");
    await user.type(input, "errands,urgent{Enter}");
    const chips = screen.getByRole("list", { name: "Selected tags" });
    expect(within(chips).getAllByRole("listitem").map((li) => li.textContent?.replace("×", ""))).toEqual(["errands", "urgent"]);
    await user.click(screen.getByRole("button", { name: "Remove tag errands" }));
    await user.type(input, "{Backspace}");
    expect(within(chips).queryAllByRole("listitem")).toHaveLength(0);
  });
});
