// Minimal test harness for the browser tests: sequential tests, per-test and global time limits,
// a screenshot on failure, a summary, and a non-zero exit code on failure.
import { mkdirSync } from "node:fs";
import { join } from "node:path";

export class Skip extends Error {}

export function skip(reason) {
  throw new Skip(reason);
}

export function assert(cond, message) {
  if (!cond) throw new Error(`assertion failed: ${message}`);
}

export function assertEqual(actual, expected, message) {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    throw new Error(`${message}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}

/** Polls `fn` until it returns a truthy value or `timeoutMs` passes (bounded). */
export async function eventually(fn, { timeoutMs = 10000, intervalMs = 250, message = "condition" } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${message}${last ? `: ${last.message}` : ""}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export function createSuite({ resultsDir }) {
  const tests = [];
  return {
    test(name, fn, { timeoutMs = 90000 } = {}) {
      // E2E_ONLY=<regex> runs a subset (tests depend on earlier ones' data: keep the setup ones).
      const only = process.env.E2E_ONLY;
      if (only && !new RegExp(only, "i").test(name)) return;
      tests.push({ name, fn, timeoutMs });
    },
    async run(ctx) {
      const results = [];
      for (const t of tests) {
        const started = Date.now();
        let status = "pass";
        let detail = "";
        let timer;
        try {
          await Promise.race([
            (async () => {
              await t.fn(ctx);
              await ctx.check?.();
            })(),
            new Promise((_, reject) => {
              timer = setTimeout(() => reject(new Error(`test timed out after ${t.timeoutMs} ms`)), t.timeoutMs);
            }),
          ]);
        } catch (err) {
          if (err instanceof Skip) {
            status = "skip";
            detail = err.message;
          } else {
            status = "fail";
            detail = err?.stack ?? String(err);
            try {
              const dir = join(resultsDir, "failures");
              mkdirSync(dir, { recursive: true });
              for (const [i, page] of (ctx.openPages?.() ?? []).entries()) {
                await page.screenshot({ path: join(dir, `${t.name.replace(/\W+/g, "-")}-${i}.png`) }).catch(() => undefined);
              }
            } catch {
              /* best effort */
            }
          }
        } finally {
          clearTimeout(timer);
          await ctx.afterEach?.();
        }
        const ms = Date.now() - started;
        const mark = status === "pass" ? "✓" : status === "skip" ? "-" : "✗";
        console.log(`${mark} ${t.name} (${ms} ms)${status === "skip" ? ` SKIPPED: ${detail}` : ""}`);
        if (status === "fail") console.log(detail.split("\n").map((l) => `    ${l}`).join("\n"));
        results.push({ name: t.name, status, ms, detail });
      }
      return results;
    },
  };
}
