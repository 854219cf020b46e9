/**
 * Build-time configuration, validated in one place.
 *
 * NEXT_PUBLIC_API_URL is inlined by Next at build time. Empty (the default) means "same origin":
 * the all-in-one binary and the gateway serve the UI and the API on one host.
 */
function parseApiUrl(raw: string | undefined): string {
  const value = (raw ?? "").trim();
  if (value === "") return "";
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`NEXT_PUBLIC_API_URL must be an absolute http(s) URL or empty, got "${value}"`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new Error(`NEXT_PUBLIC_API_URL must use http or https, got "${value}"`);
  }
  return url.toString().replace(/\/+$/, "");
}

export const env = {
  /** API origin without a trailing slash; "" for same origin. */
  apiUrl: parseApiUrl(process.env.NEXT_PUBLIC_API_URL),
} as const;

export { parseApiUrl };
