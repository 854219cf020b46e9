#!/usr/bin/env node
// Copies third-party browser bundles that the API server links to into public/vendor/, so the static
// export serves them: ReDoc at /vendor/redoc/redoc.standalone.js (the server's /redoc page loads it;
// fetching it from a CDN would fail offline). Runs before `next build` (npm "prebuild").
import { copyFileSync, existsSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const ui = join(dirname(fileURLToPath(import.meta.url)), "..");
const bundles = dirname(require.resolve("redoc/bundles/redoc.standalone.js"));
const dest = join(ui, "public", "vendor", "redoc");
mkdirSync(dest, { recursive: true });
for (const file of ["redoc.standalone.js", "redoc.standalone.js.LICENSE.txt"]) {
  const src = join(bundles, file);
  if (existsSync(src)) copyFileSync(src, join(dest, file));
}
console.log(`copy-vendor: ReDoc -> ${dest}`);
