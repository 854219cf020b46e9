/**
 * The typed HTTP client every feature's `api/` module goes through.
 * Owns: base URL, JSON encoding, the error shape ({detail, errors}), Idempotency-Key on writes and
 * one safe retry of a write whose response was lost (the same key makes the retry harmless).
 */
import { env } from "./env";
import { uuidv4 } from "./uuid";

export interface FieldError {
  field: string;
  message: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly detail: string;
  readonly errors: FieldError[];

  constructor(status: number, detail: string, errors: FieldError[] = []) {
    super(detail);
    this.name = "ApiError";
    this.status = status;
    this.detail = detail;
    this.errors = errors;
  }

  /** Message for one form field, if the server named it. */
  fieldMessage(field: string): string | undefined {
    return this.errors.find((e) => e.field === field)?.message;
  }
}

export type QueryValue = string | number | boolean | null | undefined;

export interface RequestOptions {
  method?: "GET" | "POST" | "PATCH" | "DELETE";
  query?: Record<string, QueryValue>;
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Keep the request alive while the page unloads (used to flush pending deletes). */
  keepalive?: boolean;
}

export function buildUrl(path: string, query?: Record<string, QueryValue>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value === undefined || value === null || value === "") continue;
    params.set(key, String(value));
  }
  const qs = params.toString();
  return `${env.apiUrl}${path}${qs ? `?${qs}` : ""}`;
}

async function readError(res: Response): Promise<ApiError> {
  let detail = res.statusText || `HTTP ${res.status}`;
  let errors: FieldError[] = [];
  try {
    const body: unknown = await res.json();
    if (body && typeof body === "object") {
      const b = body as { detail?: unknown; errors?: unknown };
      if (typeof b.detail === "string") detail = b.detail;
      if (Array.isArray(b.errors)) {
        errors = b.errors.filter(
          (e): e is FieldError =>
            !!e && typeof e === "object" && typeof (e as FieldError).field === "string",
        );
      }
    }
  } catch {
    // Not JSON (a proxy's HTML error page, say): keep the status text.
  }
  return new ApiError(res.status, detail, errors);
}

const WRITE_METHODS = new Set(["POST", "PATCH", "DELETE"]);

export async function apiRequest<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const method = options.method ?? "GET";
  const headers: Record<string, string> = { Accept: "application/json", ...options.headers };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  const isWrite = WRITE_METHODS.has(method);
  if (isWrite && !headers["Idempotency-Key"]) headers["Idempotency-Key"] = uuidv4();

  const init: RequestInit = {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    signal: options.signal,
    keepalive: options.keepalive,
  };
  const url = buildUrl(path, options.query);

  let res: Response;
  try {
    res = await fetch(url, init);
  } catch (err) {
    if (options.signal?.aborted) throw err;
    // The request may or may not have reached the server; a write is retried once with the same key.
    try {
      res = await fetch(url, init);
    } catch (retryErr) {
      if (options.signal?.aborted) throw retryErr;
      throw new ApiError(0, "Cannot reach the server. Check your connection and try again.");
    }
  }
  if (!res.ok) throw await readError(res);
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

/** True when the server does not provide this endpoint yet (feature not deployed). */
export function isNotFound(err: unknown): boolean {
  return err instanceof ApiError && err.status === 404;
}

export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) return err.detail;
  if (err instanceof Error) return err.message;
  return "Something went wrong";
}
