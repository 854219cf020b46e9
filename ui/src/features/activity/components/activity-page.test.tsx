import { render, screen } from "@testing-library/react";
import { http, HttpResponse } from "msw";
import { describe, expect, it } from "vitest";
import { server } from "@/test/server";
import { ActivityPage } from "./activity-page";

describe("ActivityPage", () => {
  it("draws the chart and lists events", async () => {
    const now = new Date().toISOString();
    server.use(
      http.get("*/api/activity", ({ request }) => {
        const type = new URL(request.url).searchParams.get("event_type");
        const events = [
          { id: "a", event_type: "task.created", task_id: "t1", timestamp: now, payload: { title: "Pay rent" } },
          { id: "b", event_type: "task.completed", task_id: "t1", timestamp: now, payload: { title: "Pay rent" } },
        ].filter((e) => !type || e.event_type === type);
        return HttpResponse.json({ events, total: events.length });
      }),
    );
    render(<ActivityPage />);
    expect(await screen.findByTestId("activity-chart")).toBeInTheDocument();
    const table = screen.getByRole("table", { name: /created and completed per day/ });
    const today = table.querySelectorAll("tbody tr")[13];
    expect(today?.textContent).toMatch(/11$/);
    expect(await screen.findAllByRole("link", { name: "Pay rent" })).toHaveLength(2);
  });

  it("explains when the server has no activity feed", async () => {
    render(<ActivityPage />);
    expect(await screen.findByText(/not available on this server/)).toBeInTheDocument();
  });
});
