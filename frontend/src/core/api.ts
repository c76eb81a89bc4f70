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

export async function getJson<T>(path: string, params: Record<string, string | number> = {}): Promise<T> {
  const query = new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)]));
  const url = query.toString() ? `${path}?${query}` : path;
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  if (!response.ok) {
    throw new ApiError(response.status, `${response.status}: ${(await response.text()).slice(0, 300)}`);
  }
  return (await response.json()) as T;
}
