import { apiRequest } from "@/lib/api-client";
import type { TagCount } from "../types";

export async function listTags(signal?: AbortSignal): Promise<TagCount[]> {
  const res = await apiRequest<{ tags: TagCount[] }>("/api/tags", { signal });
  return res.tags;
}
