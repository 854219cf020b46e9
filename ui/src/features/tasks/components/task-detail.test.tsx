import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { ToastProvider } from "@/components/ui/toast";
import { seed } from "@/test/server";
import { TaskDetail } from "./task-detail";

function renderAt(search: string) {
  window.history.replaceState(null, "", `/tasks/view/${search}`);
  return render(
    <ToastProvider>
      <TaskDetail />
    </ToastProvider>,
  );
}

describe("TaskDetail", () => {
  it("shows one task from the id in the query string", async () => {
    const [task] = seed({ title: "Renew passport", tags: ["admin"], is_recurring: true, recurrence_rule: "yearly", priority: "high" });
    renderAt(`?id=${task?.id}`);
    expect(await screen.findByRole("heading", { level: 1, name: "Renew passport" })).toBeInTheDocument();
    expect(screen.getByText("Every year")).toBeInTheDocument();
    expect(screen.getByText("admin")).toBeInTheDocument();
    expect(screen.getByText("High")).toBeInTheDocument();
  });

  it("explains an unknown id", async () => {
    renderAt("?id=00000000-0000-4000-8000-999999999999");
    expect(await screen.findByRole("alert")).toHaveTextContent(/does not exist/);
  });
});
