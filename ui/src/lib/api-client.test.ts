import { http, HttpResponse } from "msw";
import { describe, expect, it } from "vitest";
import { server } from "@/test/server";
import { apiRequest, ApiError, buildUrl } from "./api-client";
import { parseApiUrl } from "./env";

describe("apiRequest", () => {
  it("reads the error shape {detail, errors}", async () => {
    server.use(
      http.post("*/api/things", () =>
        HttpResponse.json({ detail: "Validation failed", errors: [{ field: "title", message: "too long" }] }, { status: 422 }),
      ),
    );
    const err = await apiRequest("/api/things", { method: "POST", body: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(422);
    expect((err as ApiError).detail).toBe("Validation failed");
    expect((err as ApiError).fieldMessage("title")).toBe("too long");
  });

  it("keeps the status text when the error is not JSON", async () => {
    server.use(http.get("*/api/things", () => new HttpResponse("<html>bad gateway</html>", { status: 502, statusText: "Bad Gateway" })));
    const err = (await apiRequest("/api/things").catch((e: unknown) => e)) as ApiError;
    expect(err.status).toBe(502);
    expect(err.detail).toBe("Bad Gateway");
  });

  it("sends an Idempotency-Key on writes and reuses it when retrying a lost request", async () => {
    const keys: (string | null)[] = [];
    let calls = 0;
    server.use(
      http.post("*/api/things", ({ request }) => {
        keys.push(request.headers.get("Idempotency-Key"));
        calls++;
        if (calls === 1) return HttpResponse.error();
        return HttpResponse.json({ ok: true }, { status: 201 });
      }),
    );
    await expect(apiRequest("/api/things", { method: "POST", body: { a: 1 } })).resolves.toEqual({ ok: true });
    expect(keys).toHaveLength(2);
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(keys[1]).toBe(keys[0]);
  });

  it("returns undefined for 204 and reports network failures plainly", async () => {
    server.use(
      http.delete("*/api/things/1", () => new HttpResponse(null, { status: 204 })),
      http.get("*/api/down", () => HttpResponse.error()),
    );
    await expect(apiRequest("/api/things/1", { method: "DELETE" })).resolves.toBeUndefined();
    const err = (await apiRequest("/api/down").catch((e: unknown) => e)) as ApiError;
    expect(err.status).toBe(0);
    expect(err.detail).toMatch(/cannot reach/i);
  });
});

describe("configuration", () => {
  it("builds same-origin URLs and skips empty query values", () => {
    expect(buildUrl("/api/tasks", { status: "", limit: 50, tag: undefined, search: "a b" })).toBe("/api/tasks?limit=50&search=a+b");
  });

  it("validates NEXT_PUBLIC_API_URL", () => {
    expect(parseApiUrl(undefined)).toBe("");
    expect(parseApiUrl("https://api.example.com/")).toBe("https://api.example.com");
    expect(() => parseApiUrl("api.example.com")).toThrow(/absolute/);
    expect(() => parseApiUrl("ftp://x")).toThrow(/http/);
  });
});
