// The plugin's HTTP API. Paths are relative: the iframe's <base href="plugin/modellens/">
// resolves them under data/plugin/modellens/.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export type Params = Record<string, string | number>;

export async function getJson<T>(path: string, params: Params = {}): Promise<T> {
  const query = new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)]));
  const url = query.toString() ? `${path}?${query}` : path;
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  if (!response.ok) {
    throw new ApiError(response.status, `${response.status}: ${(await response.text()).slice(0, 300)}`);
  }
  return (await response.json()) as T;
}

/** A binary route's body (`application/octet-stream`), as bytes. */
export async function getBytes(path: string, params: Params = {}): Promise<ArrayBuffer> {
  const query = new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)]));
  const url = query.toString() ? `${path}?${query}` : path;
  const response = await fetch(url, { headers: { Accept: "application/octet-stream" } });
  if (!response.ok) {
    throw new ApiError(response.status, `${response.status}: ${(await response.text()).slice(0, 300)}`);
  }
  return response.arrayBuffer();
}

export type TagListing = Record<string, string[]>; // run → tags

/** A small least-recently-used cache of pending requests; a failed request is forgotten. */
export class RequestCache<T> {
  private entries = new Map<string, Promise<T>>();

  constructor(private readonly limit = 64) {}

  get(key: string, load: () => Promise<T>): Promise<T> {
    let pending = this.entries.get(key);
    if (pending) {
      this.entries.delete(key); // re-insert: most recently used last
    } else {
      pending = load();
      pending.catch(() => this.entries.delete(key));
    }
    this.entries.set(key, pending);
    if (this.entries.size > this.limit) this.entries.delete(this.entries.keys().next().value as string);
    return pending;
  }

  clear(): void {
    this.entries.clear();
  }
}

/** The routes of one kind: `<kind>/tags`, `<kind>/series`, `<kind>/step` and its extras. */
export class KindClient {
  private cache: RequestCache<unknown>;

  constructor(
    readonly kind: string,
    cacheLimit = 64,
  ) {
    this.cache = new RequestCache(cacheLimit);
  }

  async tags(): Promise<TagListing> {
    return (await getJson<{ runs: TagListing }>(`${this.kind}/tags`)).runs;
  }

  get<T>(route: string, params: Params = {}): Promise<T> {
    return getJson<T>(`${this.kind}/${route}`, params);
  }

  /** A cached GET; `version` (e.g. a step's wall time) tells rewritten data from the cached copy. */
  cached<T>(route: string, params: Params, version?: string | number | null): Promise<T> {
    const key = JSON.stringify([route, Object.entries(params), version ?? null]);
    return this.cache.get(key, () => this.get<unknown>(route, params)) as Promise<T>;
  }

  /** A cached GET of a binary route, shaped by `parse` once (a parse error is not cached). */
  cachedBytes<T>(
    route: string,
    params: Params,
    parse: (bytes: ArrayBuffer) => T,
    version?: string | number | null,
  ): Promise<T> {
    const key = JSON.stringify(["bytes", route, Object.entries(params), version ?? null]);
    return this.cache.get(key, async () => parse(await getBytes(`${this.kind}/${route}`, params))) as Promise<T>;
  }
}
