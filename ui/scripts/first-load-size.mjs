#!/usr/bin/env node
// First-load JavaScript of an exported page: every script the HTML references (src= and
// modulepreload), gzip-compressed (level 9) and summed; inline scripts reported separately.
// Usage: node scripts/first-load-size.mjs [page.html ...]   (default: out/index.html)
// Exits 1 if a page's external JS exceeds BUDGET_KB (default 150).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const OUT = new URL("../out/", import.meta.url).pathname;
const budget = Number(process.env.BUDGET_KB ?? 150);
const pages = process.argv.slice(2).length ? process.argv.slice(2) : ["index.html"];
const kb = (n) => (n / 1024).toFixed(1);
let failed = false;

for (const page of pages) {
  const html = readFileSync(join(OUT, page), "utf8");
  const srcs = new Set();
  // nomodule scripts (legacy polyfills) are neither downloaded nor run by modern browsers.
  for (const m of html.matchAll(/<script([^>]*)\ssrc="([^"]+\.js)"([^>]*)>/g)) {
    if (!/nomodule/i.test(m[1] + m[3])) srcs.add(m[2]);
  }
  for (const m of html.matchAll(/<link[^>]*rel="(?:modulepreload|preload)"[^>]*href="([^"]+\.js)"/g)) srcs.add(m[1]);
  for (const m of html.matchAll(/<link[^>]*href="([^"]+\.js)"[^>]*rel="(?:modulepreload|preload)"/g)) srcs.add(m[1]);
  let raw = 0;
  let gz = 0;
  const rows = [];
  for (const src of srcs) {
    const buf = readFileSync(join(OUT, src.replace(/^\//, "").split("?")[0]));
    const g = gzipSync(buf, { level: 9 }).length;
    raw += buf.length;
    gz += g;
    rows.push([src, buf.length, g]);
  }
  let inline = "";
  for (const m of html.matchAll(/<script(?![^>]*\ssrc=)[^>]*>([\s\S]*?)<\/script>/g)) inline += m[1];
  const inlineGz = gzipSync(Buffer.from(inline), { level: 9 }).length;
  rows.sort((a, b) => b[2] - a[2]);
  console.log(`\n${page}: ${srcs.size} scripts, ${kb(raw)} KB raw, ${kb(gz)} KB gzip (budget ${budget} KB); inline scripts ${kb(inlineGz)} KB gzip`);
  for (const [src, r, g] of rows) console.log(`  ${kb(g).padStart(6)} KB gz  ${kb(r).padStart(7)} KB  ${src}`);
  if (gz / 1024 > budget) failed = true;
}
process.exit(failed ? 1 : 0);
