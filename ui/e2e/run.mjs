#!/usr/bin/env node
// End-to-end tests of the web UI against the real all-in-one server, in Debian's headless Chromium
// driven by playwright-core. Usage: npm run test:e2e
//
//   TODO_BIN        the all-in-one binary (default ../target/debug/todo, relative to ui/)
//   E2E_REBUILD=1   rebuild the UI even if ui/out is newer than the sources
//   E2E_REQUIRE_EVENTS=1  fail (instead of skip) the recurrence and reminder flows when the server
//                   does not provide the events features yet (activity / notifications answer 404)
//   E2E_TIMEOUT_MS  whole-run limit (default 900000); E2E_PERF_TASKS (default 2000)
//   E2E_ONLY        regex: run only the matching tests (later tests use data made by earlier ones)
//   CHROMIUM_PATH   default /usr/bin/chromium (installed by scripts/ensure-chromium.sh)
//
// Writes screenshots to test-results/screenshots/, numbers to test-results/perf.json and the server
// log to test-results/server.log. Exits 1 on any failure.
import { execFileSync, spawn } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";
import { assert, assertEqual, createSuite, eventually, skip } from "./harness.mjs";
import { registerTests } from "./tests.mjs";

const UI = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const RESULTS = join(UI, "test-results");
const SHOTS = join(RESULTS, "screenshots");
const require = createRequire(import.meta.url);
const bin = resolve(UI, process.env.TODO_BIN ?? "../target/debug/todo");
const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const globalTimeout = Number(process.env.E2E_TIMEOUT_MS ?? 900000);

let serverProc = null;
let browser = null;
let dataDir = null;

function cleanup() {
  if (serverProc && serverProc.exitCode === null) {
    serverProc.kill("SIGTERM");
    const pid = serverProc.pid;
    setTimeout(() => {
      try {
        process.kill(pid, 0);
        process.kill(pid, "SIGKILL");
      } catch {
        /* gone */
      }
    }, 3000).unref();
  }
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}

const watchdog = setTimeout(async () => {
  console.error(`e2e: whole run exceeded ${globalTimeout} ms, aborting`);
  await browser?.close().catch(() => undefined);
  cleanup();
  process.exit(1);
}, globalTimeout);
watchdog.unref();
process.on("SIGINT", () => {
  cleanup();
  process.exit(130);
});

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (/\.test\.tsx?$/.test(entry.name)) continue; // tests do not change the build
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

function ensureUiBuilt() {
  const index = join(UI, "out", "index.html");
  const stale =
    !existsSync(index) ||
    process.env.E2E_REBUILD === "1" ||
    Math.max(newestMtime(join(UI, "src")), statSync(join(UI, "package.json")).mtimeMs) > statSync(index).mtimeMs;
  if (stale) {
    console.log("e2e: building the UI (npm run build)");
    execFileSync("npm", ["run", "build"], { cwd: UI, stdio: "inherit" });
  } else console.log("e2e: reusing ui/out");
}

function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", rej);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

async function startServer() {
  if (!existsSync(bin)) {
    throw new Error(`the all-in-one binary ${bin} is missing: build it with \`cargo build -p all_in_one\` or set TODO_BIN`);
  }
  const port = await freePort();
  dataDir = mkdtempSync(join(tmpdir(), "todo-e2e-"));
  mkdirSync(RESULTS, { recursive: true });
  const log = createWriteStream(join(RESULTS, "server.log"));
  const env = { ...process.env, PORT: String(port), HOST: "127.0.0.1", UI_DIR: join(UI, "out"), DATA_DIR: dataDir };
  delete env.DATABASE_URL;
  serverProc = spawn(bin, [], { env, stdio: ["ignore", "pipe", "pipe"] });
  serverProc.stdout.pipe(log);
  serverProc.stderr.pipe(log);
  const base = `http://127.0.0.1:${port}`;
  await eventually(
    async () => {
      if (serverProc.exitCode !== null) throw new Error(`server exited with code ${serverProc.exitCode} (see test-results/server.log)`);
      const res = await fetch(`${base}/health`, { signal: AbortSignal.timeout(1000) });
      return res.ok;
    },
    { timeoutMs: 30000, intervalMs: 200, message: "GET /health" },
  );
  console.log(`e2e: server pid ${serverProc.pid} ready at ${base}`);
  return base;
}

/** Thin JSON client for seeding and checking state through the API (not through the UI). */
function apiClient(base) {
  const call = async (method, path, body) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: body === undefined ? {} : { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
  return {
    call,
    async create(task) {
      const r = await call("POST", "/api/tasks", task);
      assert(r.status === 201, `create ${JSON.stringify(task)} -> ${r.status} ${JSON.stringify(r.body)}`);
      return r.body;
    },
    async list(query = "") {
      const r = await call("GET", `/api/tasks?limit=200${query ? `&${query}` : ""}`);
      assert(r.status === 200, `list -> ${r.status}`);
      return r.body;
    },
    async byTitle(title) {
      const page = await this.list(`search=${encodeURIComponent(title)}`);
      return page.tasks.filter((t) => t.title === title);
    },
    async has(path) {
      const r = await call("GET", path);
      return r.status !== 404;
    },
  };
}

async function injectAxe(page) {
  const source = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
  await page.addScriptTag({ content: source });
}

/** Runs axe-core (WCAG 2.x A/AA) in the page; returns the violations. */
async function axe(page, label) {
  await injectAxe(page);
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, {
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"] },
    });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 5).map((n) => `${n.target.join(" ")} :: ${n.failureSummary?.split("\n").slice(0, 2).join(" ")}`),
    }));
  });
  if (violations.length) {
    console.log(`    axe violations on ${label}:`);
    for (const v of violations) console.log(`      [${v.impact}] ${v.id}: ${v.help}\n        ${v.nodes.join("\n        ")}`);
  }
  return violations;
}

async function main() {
  execFileSync(join(UI, "scripts", "ensure-chromium.sh"), { stdio: "inherit" });
  ensureUiBuilt();
  const base = await startServer();
  const api = apiClient(base);
  rmSync(SHOTS, { recursive: true, force: true });
  mkdirSync(SHOTS, { recursive: true });

  // playwright-core launches with a fresh temporary profile (user-data-dir) every time.
  browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--disable-quic",
    ],
  });

  const contexts = [];
  const pageErrors = [];
  const ctx = {
    base,
    api,
    shots: SHOTS,
    results: RESULTS,
    axe,
    assert,
    assertEqual,
    eventually,
    skip,
    requireEvents: process.env.E2E_REQUIRE_EVENTS === "1",
    perfTasks: Number(process.env.E2E_PERF_TASKS ?? 2000),
    /** A new browser context (fresh storage): desktop or phone, light or dark, in Paris time. */
    async newPage({ phone = false, dark = false } = {}) {
      const context = await browser.newContext({
        viewport: phone ? { width: 390, height: 844 } : { width: 1280, height: 860 },
        isMobile: phone,
        hasTouch: phone,
        colorScheme: dark ? "dark" : "light",
        timezoneId: "Europe/Paris",
        locale: "en-US",
        baseURL: base,
      });
      await context.grantPermissions(["notifications"], { origin: base }).catch(() => undefined);
      contexts.push(context);
      const page = await context.newPage();
      page.setDefaultTimeout(15000);
      page.on("pageerror", (err) => pageErrors.push(err.message));
      return page;
    },
    openPages: () => contexts.flatMap((c) => c.pages()),
    /** Uncaught errors in any page fail the test. */
    check() {
      const errors = pageErrors.splice(0);
      if (errors.length) throw new Error(`uncaught errors in the page: ${errors.join(" | ")}`);
    },
    async afterEach() {
      pageErrors.length = 0;
      for (const c of contexts.splice(0)) await c.close().catch(() => undefined);
    },
  };

  const suite = createSuite({ resultsDir: RESULTS });
  registerTests(suite);
  const results = await suite.run(ctx);
  await browser.close();
  cleanup();

  const failed = results.filter((r) => r.status === "fail");
  const skipped = results.filter((r) => r.status === "skip");
  console.log(`\ne2e: ${results.length - failed.length - skipped.length} passed, ${failed.length} failed, ${skipped.length} skipped`);
  console.log(`e2e: screenshots in ${SHOTS}`);
  writeFileSync(join(RESULTS, "e2e-results.json"), JSON.stringify(results, null, 2));
  process.exit(failed.length ? 1 : 0);
}

main().catch(async (err) => {
  console.error(`e2e: ${err?.stack ?? err}`);
  await browser?.close().catch(() => undefined);
  cleanup();
  process.exit(1);
});
