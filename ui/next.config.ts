import type { NextConfig } from "next";

// Static export: the all-in-one binary (UI_DIR) and the gateway serve ui/out as plain files.
// trailingSlash makes every route a folder with an index.html (/activity/ -> out/activity/index.html),
// which any static file server resolves without rewrite rules.
const config: NextConfig = {
  output: "export",
  trailingSlash: true,
  images: { unoptimized: true },
  reactStrictMode: true,
  poweredByHeader: false,
};

export default config;
