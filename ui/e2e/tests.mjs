// The browser flows. Each test gets fresh browser contexts from ctx.newPage(); the server and its
// data persist across tests (in order), as they would for one user.
import { writeFileSync } from "node:fs";
import { join } from "node:path";

const inDays = (days, hour = 9) => {
  // A wall time N days ahead, as the datetime-local input takes it.
  const d = new Date(Date.now() + days * 86400000);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(hour)}:00`;
};

async function openApp(page, path = "/") {
  await page.goto(path);
  await page.locator('[data-testid="task-card"]').or(page.getByText("No tasks yet")).first().waitFor();
}

async function card(page, title) {
  return page.locator('[data-testid="task-card"]', { has: page.getByRole("link", { name: title, exact: true }) });
}

async function createThroughForm(page, { title, description, priority, tags = [], due, repeat }) {
  await page.getByRole("button", { name: "New task" }).click();
  const dialog = page.getByRole("dialog", { name: "New task" });
  await dialog.getByLabel("Title").fill(title);
  if (description) await dialog.getByLabel("Description").fill(description);
  if (priority) await dialog.getByLabel("Priority").selectOption(priority);
  for (const tag of tags) {
    await dialog.getByLabel("Tags", { exact: true }).fill(tag);
    await dialog.getByLabel("Tags", { exact: true }).press("Enter");
  }
  if (due) await dialog.getByLabel(/^Due/).fill(due);
  if (repeat) await dialog.getByLabel("Repeat").selectOption(repeat);
  await dialog.getByRole("button", { name: "Create task" }).click();
  await dialog.waitFor({ state: "hidden" });
  await page.getByRole("link", { name: title, exact: true }).waitFor();
}

export function registerTests(suite) {
  suite.test("create a task through the form, edit it, and its due date does not drift", async (t) => {
    const page = await t.newPage();
    await openApp(page);
    if (await page.getByText("No tasks yet").isVisible()) {
      await page.screenshot({ path: join(t.shots, "empty-desktop-light.png") });
    }
    await createThroughForm(page, {
      title: "Buy groceries",
      description: "Milk, eggs, bread",
      priority: "high",
      tags: ["errands", "home"],
      due: "2030-12-02T09:00",
    });
    const [created] = await t.api.byTitle("Buy groceries");
    t.assert(created, "task exists in the API");
    // 09:00 in Paris in December is 08:00 UTC: the browser's zone was honoured.
    t.assertEqual(new Date(created.due_date).toISOString(), "2030-12-02T08:00:00.000Z", "due_date");
    t.assertEqual(created.timezone, "Europe/Paris", "timezone");
    t.assertEqual(created.tags, ["errands", "home"], "tags");
    t.assertEqual(created.priority, "high", "priority");

    await page.getByRole("button", { name: 'Edit "Buy groceries"' }).click();
    const dialog = page.getByRole("dialog", { name: "Edit task" });
    t.assertEqual(await dialog.getByLabel(/^Due/).inputValue(), "2030-12-02T09:00", "due shown in the task's zone");
    await dialog.getByLabel("Title").fill("Buy groceries and flowers");
    await dialog.getByRole("button", { name: "Save changes" }).click();
    await page.getByRole("link", { name: "Buy groceries and flowers", exact: true }).waitFor();
    const after = (await t.api.call("GET", `/api/tasks/${created.id}`)).body;
    t.assertEqual(after.due_date, created.due_date, "due_date unchanged after saving");
    t.assert(after.version > created.version, "version increased");

    await page.reload();
    await page.getByRole("link", { name: "Buy groceries and flowers", exact: true }).waitFor();
  });

  suite.test("filter by status, priority and tag; debounced search; sort", async (t) => {
    await t.api.create({ title: "Alpha report", priority: "high", tags: ["work"] });
    await t.api.create({ title: "Beta chores", priority: "low", tags: ["home"] });
    const gamma = await t.api.create({ title: "Gamma call", priority: "medium", tags: ["work"] });
    await t.api.call("POST", `/api/tasks/${gamma.id}/complete`);
    const page = await t.newPage();
    await openApp(page);
    const visible = async (title) => (await card(page, title)).isVisible();

    await page.getByLabel("Priority", { exact: true }).selectOption("high");
    await t.eventually(async () => !(await visible("Beta chores")) && (await visible("Alpha report")), { message: "priority filter" });
    await page.getByLabel("Priority", { exact: true }).selectOption("");

    await page.getByLabel("Tag", { exact: true }).selectOption("home");
    await t.eventually(async () => (await visible("Beta chores")) && !(await visible("Alpha report")), { message: "tag filter" });
    t.assert(page.url().includes("tag=home"), "filters are in the URL");
    await page.getByRole("button", { name: "Clear filters" }).click();

    await page.getByLabel("Status", { exact: true }).selectOption("completed");
    await t.eventually(async () => (await visible("Gamma call")) && !(await visible("Alpha report")), { message: "status filter" });
    await page.getByLabel("Status", { exact: true }).selectOption("");

    await page.keyboard.press("/");
    await page.keyboard.type("gamma");
    await t.eventually(async () => (await visible("Gamma call")) && !(await visible("Beta chores")), { message: "search" });
    await page.getByRole("button", { name: "Clear filters" }).click();

    await page.getByLabel("Sort by").selectOption("title");
    await page.getByRole("button", { name: /Sort order/ }).click();
    await t.eventually(
      async () => (await page.locator('[data-testid="task-card"] h3').first().innerText()) === "Alpha report",
      { message: "sorted by title ascending" },
    );
  });

  suite.test("inline status and priority changes, complete and undo", async (t) => {
    const page = await t.newPage();
    await openApp(page);
    await page.getByLabel('Status of "Beta chores"').selectOption("in_progress");
    await page.getByLabel('Priority of "Beta chores"').selectOption("high");
    await t.eventually(async () => {
      const [task] = await t.api.byTitle("Beta chores");
      return task.status === "in_progress" && task.priority === "high";
    }, { message: "inline changes saved" });

    await page.getByRole("checkbox", { name: 'Mark "Alpha report" as done' }).click();
    await page.getByRole("checkbox", { name: 'Mark "Alpha report" as not done' }).waitFor();
    await t.eventually(async () => (await t.api.byTitle("Alpha report"))[0].status === "completed", { message: "completed" });
    await page.getByRole("button", { name: "Undo" }).click();
    await t.eventually(async () => (await t.api.byTitle("Alpha report"))[0].status === "pending", { message: "undone" });
  });

  suite.test("complete a recurring task and see its next occurrence", async (t) => {
    if (!(await t.api.has("/api/activity?limit=1")) && !t.requireEvents) {
      t.skip("the server has no events features yet (GET /api/activity is 404)");
    }
    const page = await t.newPage();
    await openApp(page);
    await createThroughForm(page, { title: "Water the plants", due: inDays(1), repeat: "daily" });
    await page.getByRole("checkbox", { name: 'Mark "Water the plants" as done' }).click();
    await t.eventually(async () => (await t.api.byTitle("Water the plants")).length === 2, {
      timeoutMs: 20000,
      message: "the next occurrence in the API",
    });
    // The list refreshes by itself shortly after completing a recurring task.
    await t.eventually(async () => (await page.getByRole("link", { name: "Water the plants", exact: true }).count()) === 2, {
      timeoutMs: 10000,
      message: "the next occurrence in the list",
    });
    const tasks = await t.api.byTitle("Water the plants");
    const next = tasks.find((x) => x.status === "pending");
    const done = tasks.find((x) => x.status === "completed");
    t.assert(next && done, "one done, one pending");
    t.assertEqual(next.series_id, done.series_id, "same series");
    // One day later at the same wall-clock time in the task's zone (23 or 25 hours across DST).
    const wall = (iso) =>
      new Intl.DateTimeFormat("en-CA", { timeZone: "Europe/Paris", dateStyle: "short", timeStyle: "short", hourCycle: "h23" }).format(new Date(iso));
    const nextDay = new Date(new Date(done.due_date).getTime() + 86400000);
    t.assertEqual(wall(next.due_date).slice(0, 10), wall(nextDay.toISOString()).slice(0, 10), "next occurrence on the next day");
    t.assertEqual(wall(next.due_date).slice(-5), wall(done.due_date).slice(-5), "at the same time of day");
  });

  suite.test("receive a reminder notification", async (t) => {
    if (!(await t.api.has("/api/notifications?unread=true")) && !t.requireEvents) {
      t.skip("the server has no notifications yet (GET /api/notifications is 404)");
    }
    const soon = new Date(Date.now() + 3000).toISOString();
    const due = new Date(Date.now() + 3600000).toISOString();
    await t.api.create({ title: "Call the dentist", due_date: due, reminder_at: soon });
    const page = await t.newPage();
    await openApp(page);
    const bell = page.getByRole("button", { name: /Notifications, \d+ unread/ });
    await t.eventually(() => bell.isVisible(), { timeoutMs: 90000, intervalMs: 1000, message: "an unread notification" });
    await bell.click();
    await page.getByRole("region", { name: "Notifications" }).getByText("Call the dentist").first().waitFor();
    await page.screenshot({ path: join(t.shots, "notifications-desktop-light.png") });
  }, { timeoutMs: 120000 });

  suite.test("delete with undo, then delete for good", async (t) => {
    const page = await t.newPage();
    await openApp(page);
    const [beta] = await t.api.byTitle("Beta chores");
    await page.getByRole("button", { name: 'Delete "Beta chores"' }).click();
    await (await card(page, "Beta chores")).waitFor({ state: "detached" });
    await page.getByRole("button", { name: "Undo" }).click();
    await (await card(page, "Beta chores")).waitFor();
    await page.waitForTimeout(6500);
    t.assertEqual((await t.api.call("GET", `/api/tasks/${beta.id}`)).status, 200, "kept after undo");

    await page.getByRole("button", { name: 'Delete "Beta chores"' }).click();
    await t.eventually(async () => (await t.api.call("GET", `/api/tasks/${beta.id}`)).status === 404, {
      timeoutMs: 12000,
      message: "deleted after the undo window",
    });
    await page.reload();
    await page.locator('[data-testid="task-card"]').first().waitFor();
    t.assertEqual(await page.getByRole("link", { name: "Beta chores", exact: true }).count(), 0, "gone after reload");
  });

  suite.test("task history drawer and activity page", async (t) => {
    if (!(await t.api.has("/api/activity?limit=1")) && !t.requireEvents) {
      t.skip("the server has no audit log yet (GET /api/activity is 404)");
    }
    const page = await t.newPage();
    await openApp(page);
    await page.getByRole("button", { name: 'History of "Buy groceries and flowers"' }).click();
    const drawer = page.getByRole("dialog", { name: /History: Buy groceries and flowers/ });
    await drawer.getByRole("list", { name: "Task history" }).getByText("Created").waitFor();
    await drawer.getByText("Updated").first().waitFor();
    await page.screenshot({ path: join(t.shots, "history-desktop-light.png") });
    await page.keyboard.press("Escape");
    await page.getByRole("link", { name: "Activity" }).click();
    await page.getByTestId("activity-chart").waitFor();
    await page.getByRole("heading", { name: "Recent events" }).waitFor();
  });

  suite.test("bell (with the browser Notification API), history drawer and activity chart, endpoints stubbed in the browser", async (t) => {
    // The real server gains these endpoints with the events issue (flows above); until then this test
    // drives the same UI against answers stubbed with page.route, so the views are checked anyway.
    const [task] = await t.api.byTitle("Buy groceries and flowers");
    t.assert(task, "seeded task");
    const day = (n) => new Date(Date.now() - n * 86400000).toISOString();
    const events = [
      { id: "e1", event_type: "task.created", task_id: task.id, timestamp: day(3), payload: { title: task.title } },
      { id: "e2", event_type: "task.updated", task_id: task.id, timestamp: day(2), payload: { changed_fields: ["title"] } },
      { id: "e3", event_type: "task.created", task_id: task.id, timestamp: day(1), payload: { title: "Alpha report" } },
      { id: "e4", event_type: "task.completed", task_id: task.id, timestamp: day(0), payload: { title: "Alpha report" } },
    ];
    let notifications = [];
    for (const dark of [false, true]) {
      const page = await t.newPage({ dark });
      await page.addInitScript(() => {
        window.__shown = [];
        const Real = window.Notification;
        class Recording extends Real {
          constructor(title, options) {
            super(title, options);
            window.__shown.push(title);
          }
        }
        Object.defineProperty(Recording, "permission", { get: () => "granted" });
        window.Notification = Recording;
      });
      const json = (body) => ({ status: 200, contentType: "application/json", body: JSON.stringify(body) });
      await page.route(/\/api\/notifications(\?|$)/, (route) => route.fulfill(json({ notifications, total: notifications.length })));
      await page.route(/\/api\/activity(\?|$)/, (route) => {
        const type = new URL(route.request().url()).searchParams.get("event_type");
        const list = events.filter((e) => !type || e.event_type === type);
        return route.fulfill(json({ events: list, total: list.length }));
      });
      await page.route(/\/api\/tasks\/[^/]+\/history/, (route) => route.fulfill(json({ events: events.slice(0, 2), total: 2 })));
      notifications = [];
      await openApp(page);
      await page.getByRole("button", { name: "Notifications", exact: true }).waitFor();
      notifications = [
        {
          id: "n1",
          task_id: task.id,
          title: `Reminder: ${task.title}`,
          message: "Due in 15 minutes",
          due_at: task.due_date,
          created_at: new Date().toISOString(),
          read_at: null,
        },
      ];
      await page.evaluate(() => window.dispatchEvent(new Event("focus")));
      const bell = page.getByRole("button", { name: "Notifications, 1 unread" });
      await bell.waitFor();
      t.assertEqual(await page.evaluate(() => window.__shown), [`Reminder: ${task.title}`], "browser notification shown once");
      await bell.click();
      await page.getByRole("region", { name: "Notifications" }).getByRole("link", { name: `Reminder: ${task.title}` }).waitFor();
      const v1 = await t.axe(page, "notifications panel");
      await page.screenshot({ path: join(t.shots, `notifications-stubbed-desktop-${dark ? "dark" : "light"}.png`) });
      await page.keyboard.press("Escape");

      await page.getByRole("button", { name: `History of "${task.title}"` }).click();
      const drawer = page.getByRole("dialog", { name: `History: ${task.title}` });
      await drawer.getByText("Changed title").waitFor();
      const v2 = await t.axe(page, "history drawer");
      await page.screenshot({ path: join(t.shots, `history-stubbed-desktop-${dark ? "dark" : "light"}.png`) });
      await page.keyboard.press("Escape");

      await page.getByRole("link", { name: "Activity" }).click();
      await page.getByTestId("activity-chart").waitFor();
      await page.getByRole("heading", { name: "Recent events" }).waitFor();
      await page.locator("section", { has: page.getByRole("heading", { name: "Recent events" }) }).getByText("Completed", { exact: true }).waitFor();
      const v3 = await t.axe(page, "activity");
      await page.screenshot({ path: join(t.shots, `activity-stubbed-desktop-${dark ? "dark" : "light"}.png`), fullPage: true });
      t.assertEqual([...v1, ...v2, ...v3].map((v) => v.id), [], "axe violations");
    }
  });

  suite.test("the UI build carries the ReDoc bundle the server's /redoc page loads", async (t) => {
    const res = await fetch(`${t.base}/vendor/redoc/redoc.standalone.js`);
    t.assertEqual(res.status, 200, "GET /vendor/redoc/redoc.standalone.js");
    t.assert((await res.text()).length > 100000, "bundle is not empty");
  });

  suite.test("at phone width: create, complete, edit and delete through the UI; theme toggle", async (t) => {
    const page = await t.newPage({ phone: true });
    await openApp(page);
    await createThroughForm(page, { title: "Phone task", priority: "low", tags: ["mobile"], due: inDays(3, 18) });
    await page.getByRole("checkbox", { name: 'Mark "Phone task" as done' }).tap();
    await t.eventually(async () => (await t.api.byTitle("Phone task"))[0]?.status === "completed", { message: "completed" });
    await page.getByRole("button", { name: 'Edit "Phone task"' }).tap();
    const dialog = page.getByRole("dialog", { name: "Edit task" });
    await dialog.getByLabel("Status").selectOption("pending");
    await dialog.getByRole("button", { name: "Save changes" }).tap();
    await t.eventually(async () => (await t.api.byTitle("Phone task"))[0]?.status === "pending", { message: "reopened" });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    t.assert(overflow <= 0, `no horizontal scrolling at 390 px (overflow ${overflow}px)`);

    // Theme: system (light here) -> light -> dark, remembered across reloads.
    const toggle = page.getByRole("button", { name: /^Theme:/ });
    await toggle.tap();
    await toggle.tap();
    t.assert(await page.evaluate(() => document.documentElement.classList.contains("dark")), "dark mode on");
    await page.reload();
    await openApp(page);
    t.assert(await page.evaluate(() => document.documentElement.classList.contains("dark")), "dark mode remembered");

    await page.getByRole("button", { name: 'Delete "Phone task"' }).tap();
    await t.eventually(async () => (await t.api.byTitle("Phone task")).length === 0, { timeoutMs: 12000, message: "deleted" });
  });

  suite.test("keyboard shortcuts and focus", async (t) => {
    const page = await t.newPage();
    await openApp(page);
    await page.keyboard.press("?");
    await page.getByRole("dialog", { name: "Keyboard shortcuts" }).waitFor();
    await page.keyboard.press("Escape");
    await page.getByRole("dialog", { name: "Keyboard shortcuts" }).waitFor({ state: "hidden" });
    await page.keyboard.press("n");
    const dialog = page.getByRole("dialog", { name: "New task" });
    await dialog.waitFor();
    t.assert(await dialog.getByLabel("Title").evaluate((el) => el === document.activeElement), "title has focus");
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "hidden" });
    await page.keyboard.press("/");
    t.assert(await page.getByRole("searchbox").evaluate((el) => el === document.activeElement), "search has focus");
  });

  suite.test("main views: accessibility (axe-core) and screenshots at desktop/phone, light/dark", async (t) => {
    const [any] = (await t.api.list()).tasks;
    const all = [];
    for (const phone of [false, true]) {
      for (const dark of [false, true]) {
        const tag = `${phone ? "phone" : "desktop"}-${dark ? "dark" : "light"}`;
        const page = await t.newPage({ phone, dark });
        await openApp(page);
        await page.waitForTimeout(300);
        all.push(...(await t.axe(page, `tasks ${tag}`)));
        await page.screenshot({ path: join(t.shots, `tasks-${tag}.png`), fullPage: !phone });

        await page.getByRole("button", { name: "New task" }).click();
        const dialog = page.getByRole("dialog", { name: "New task" });
        await dialog.getByLabel("Title").fill("Team sync");
        await dialog.getByLabel(/^Due/).fill(inDays(2, 10));
        await dialog.getByLabel("Reminder").selectOption("before:15");
        await dialog.getByLabel("Repeat").selectOption("custom");
        await dialog.locator("label", { has: page.getByRole("checkbox", { name: "Thursday" }) }).click();
        await dialog.getByTestId("recurrence-preview").scrollIntoViewIfNeeded();
        all.push(...(await t.axe(page, `form ${tag}`)));
        await page.screenshot({ path: join(t.shots, `form-${tag}.png`) });
        await page.keyboard.press("Escape");

        if (any) {
          await page.goto(`/tasks/view/?id=${any.id}`);
          await page.getByRole("heading", { level: 1 }).waitFor();
          await page.waitForTimeout(300);
          all.push(...(await t.axe(page, `task detail ${tag}`)));
          await page.screenshot({ path: join(t.shots, `task-detail-${tag}.png`), fullPage: !phone });
        }
        if (await t.api.has("/api/activity?limit=1")) {
          await page.goto("/activity/");
          await page.getByRole("heading", { name: "Activity" }).waitFor();
          await page.getByTestId("activity-chart").waitFor();
          all.push(...(await t.axe(page, `activity ${tag}`)));
          await page.screenshot({ path: join(t.shots, `activity-${tag}.png`), fullPage: !phone });
        }
      }
    }
    t.assertEqual(all.map((v) => v.id), [], "axe violations");
  }, { timeoutMs: 180000 });

  suite.test("empty state and error state", async (t) => {
    const page = await t.newPage();
    await page.route("**/api/tasks?*", (route) =>
      route.fulfill({ status: 503, contentType: "application/json", body: JSON.stringify({ detail: "database unavailable" }) }),
    );
    await page.goto("/");
    await page.getByRole("alert").getByText("database unavailable").waitFor();
    await page.screenshot({ path: join(t.shots, "error-desktop-light.png") });
    await page.unroute("**/api/tasks?*");
    await page.getByRole("button", { name: "Try again" }).click();
    await page.locator('[data-testid="task-card"]').first().waitFor();
    await page.getByLabel("Search tasks").fill("no task is called this");
    await page.getByText("No tasks match").waitFor();
    await page.screenshot({ path: join(t.shots, "no-match-desktop-light.png") });
  });

  suite.test("thousands of tasks: virtualized list, scroll performance (numbers in perf.json)", async (t) => {
    const n = t.perfTasks;
    const started = Date.now();
    const batch = 20;
    for (let i = 0; i < n; i += batch) {
      await Promise.all(
        Array.from({ length: Math.min(batch, n - i) }, (_, j) =>
          t.api.create({
            title: `Bulk task ${String(i + j).padStart(4, "0")}`,
            priority: ["low", "medium", "high"][(i + j) % 3],
            tags: [`group-${(i + j) % 7}`],
            due_date: new Date(Date.now() + ((i + j) % 50) * 3600000).toISOString(),
          }),
        ),
      );
    }
    const seedMs = Date.now() - started;
    const page = await t.newPage();
    const t0 = Date.now();
    await page.goto("/");
    await page.locator('[data-testid="task-card"]').first().waitFor();
    const firstCardMs = Date.now() - t0;
    const total = await t.api.list().then((p) => p.total);

    // Scroll the window to the end, one step per animation frame, loading pages on the way;
    // measure frame intervals in the page meanwhile.
    const scroll = await page.evaluate(async (expected) => {
      // Calibration: frame intervals of this browser on this machine with nothing to do.
      const idle = [];
      let prev = performance.now();
      for (let i = 0; i < 60; i++) {
        await new Promise((r) => requestAnimationFrame(r));
        const now = performance.now();
        idle.push(now - prev);
        prev = now;
      }
      idle.sort((a, b) => a - b);
      const frames = [];
      let last = performance.now();
      let maxCards = 0;
      const start = performance.now();
      const deadline = start + 120000;
      while (performance.now() < deadline) {
        window.scrollBy(0, 600);
        await new Promise((r) => requestAnimationFrame(r));
        const now = performance.now();
        frames.push(now - last);
        last = now;
        maxCards = Math.max(maxCards, document.querySelectorAll('[data-testid="task-card"]').length);
        const atEnd = window.innerHeight + window.scrollY >= document.body.scrollHeight - 2;
        const loaded = document.querySelector('[role="feed"]');
        if (atEnd && !document.querySelector('[role="feed"][aria-busy="true"]') && !Array.from(document.querySelectorAll("button")).some((b) => /Load more/.test(b.textContent ?? ""))) break;
        if (!loaded) break;
      }
      frames.sort((a, b) => a - b);
      const pct = (p) => frames[Math.min(frames.length - 1, Math.floor(frames.length * p))];
      return {
        scrollMs: Math.round(performance.now() - start),
        frames: frames.length,
        frameP50: +pct(0.5).toFixed(1),
        frameP95: +pct(0.95).toFixed(1),
        frameMax: +frames[frames.length - 1].toFixed(1),
        framesOver50ms: frames.filter((f) => f > 50).length,
        maxCardsInDom: maxCards,
        idleFrameP50: +idle[30].toFixed(1),
        expected,
      };
    }, total);
    const lastTitle = await page.locator('[data-testid="task-card"] h3').last().innerText();

    // A fast wheel-like scroll back up through loaded rows: 120 px per frame for 240 frames.
    const wheel = await page.evaluate(async () => {
      const frames = [];
      let last = performance.now();
      for (let i = 0; i < 240; i++) {
        window.scrollBy(0, -120);
        await new Promise((r) => requestAnimationFrame(r));
        const now = performance.now();
        frames.push(now - last);
        last = now;
      }
      frames.sort((a, b) => a - b);
      return {
        wheelFrameP50: +frames[120].toFixed(1),
        wheelFrameP95: +frames[228].toFixed(1),
        wheelFramesOver50ms: frames.filter((f) => f > 50).length,
      };
    });
    Object.assign(scroll, wheel);
    const perf = { tasksSeeded: n, totalTasks: total, seedMs, firstCardMs, ...scroll, lastVisibleTitle: lastTitle };
    writeFileSync(join(t.results, "perf.json"), JSON.stringify(perf, null, 2));
    console.log(`    perf: ${JSON.stringify(perf)}`);
    await page.screenshot({ path: join(t.shots, "tasks-2000-desktop-light.png") });
    t.assert(scroll.maxCardsInDom < 80, `the list is virtualized (${scroll.maxCardsInDom} cards in the DOM at most)`);
    t.assert(
      (await page.locator('[role="feed"]').evaluate((el) => el.style.height)) !== "0px",
      "the list has height",
    );
  }, { timeoutMs: 300000 });
}
