import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { http, HttpResponse } from "msw";
import { describe, expect, it } from "vitest";
import { requestsTo, server } from "@/test/server";
import { NotificationBell } from "./notification-bell";

const note = {
  id: "n1",
  task_id: "t1",
  title: "Reminder: Pay rent",
  message: "Due at 09:00",
  due_at: "2026-12-01T08:00:00Z",
  created_at: "2026-12-01T07:45:00Z",
  read_at: null,
};

describe("NotificationBell", () => {
  it("is hidden while the server has no notifications feature (404)", async () => {
    const { container } = render(<NotificationBell />);
    await waitFor(() => expect(requestsTo("GET", "/api/notifications")).toHaveLength(1));
    await waitFor(() => expect(container).toBeEmptyDOMElement());
  });

  it("shows unread notifications and marks them read", async () => {
    let read = false;
    server.use(
      http.get("*/api/notifications", () => HttpResponse.json({ notifications: read ? [] : [note], total: read ? 0 : 1 })),
      http.post("*/api/notifications/:id/read", () => {
        read = true;
        return HttpResponse.json({ ...note, read_at: "2026-12-01T08:00:00Z" });
      }),
    );
    const user = userEvent.setup();
    render(<NotificationBell />);
    const bell = await screen.findByRole("button", { name: "Notifications, 1 unread" });
    await user.click(bell);
    expect(screen.getByRole("link", { name: "Reminder: Pay rent" })).toHaveAttribute("href", "/tasks/view/?id=t1");
    await user.click(screen.getByRole("button", { name: "Mark read" }));
    expect(await screen.findByText("You are all caught up.")).toBeInTheDocument();
    expect(read).toBe(true);
  });
});
