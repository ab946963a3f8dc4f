/** The one HTTP client of the console: the /v1 API, same origin, with the signed-in user's bearer token. */

export type Query = Record<string, string | number | boolean | string[] | null | undefined>;

/** A refused or failed request, carrying the API's own one-sentence message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export type TokenSource = () => Promise<string>;

export function toSearch(query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === null || value === undefined || value === '') {
      continue;
    }
    for (const v of Array.isArray(value) ? value : [value]) {
      params.append(key, String(v));
    }
  }
  const s = params.toString();
  return s ? `?${s}` : '';
}

function messageOf(status: number, body: unknown): string {
  if (typeof body === 'object' && body !== null && 'message' in body) {
    const m = body.message;
    if (typeof m === 'string' && m.length > 0) {
      return m;
    }
    if (Array.isArray(m)) {
      return m.map(String).join('; ');
    }
  }
  return `The API answered ${status}`;
}

export interface ApiResponse<T> {
  status: number;
  body: T;
}

export interface Api {
  get<T>(path: string, query?: Query): Promise<T>;
  /** Any status: the caller decides (the guarded start answers an Attempt with 409, 429, …). */
  send<T>(method: 'POST' | 'DELETE', path: string, body?: unknown): Promise<ApiResponse<T>>;
  post<T>(path: string, body?: unknown): Promise<T>;
  del(path: string): Promise<void>;
  blob(path: string, query?: Query): Promise<Blob>;
}

export function createApi(getToken: TokenSource, base = ''): Api {
  async function request(method: string, path: string, body?: unknown, query?: Query): Promise<Response> {
    const token = await getToken();
    const headers: Record<string, string> = { Authorization: `Bearer ${token}`, Accept: 'application/json' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
    }
    let res: Response;
    try {
      res = await fetch(`${base}${path}${toSearch(query)}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new ApiError(0, 'The API could not be reached; check the network and try again.', null);
    }
    return res;
  }
  async function parse(res: Response): Promise<unknown> {
    const text = await res.text();
    if (!text) {
      return null;
    }
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }
  async function ok<T>(res: Response): Promise<T> {
    const body = await parse(res);
    if (!res.ok) {
      throw new ApiError(res.status, messageOf(res.status, body), body);
    }
    return body as T;
  }
  return {
    async get<T>(path: string, query?: Query) {
      return ok<T>(await request('GET', path, undefined, query));
    },
    async send<T>(method: 'POST' | 'DELETE', path: string, body?: unknown) {
      const res = await request(method, path, body);
      return { status: res.status, body: (await parse(res)) as T };
    },
    async post<T>(path: string, body?: unknown) {
      return ok<T>(await request('POST', path, body));
    },
    async del(path: string) {
      await ok<unknown>(await request('DELETE', path));
    },
    async blob(path: string, query?: Query) {
      const res = await request('GET', path, undefined, query);
      if (!res.ok) {
        const body = await parse(res);
        throw new ApiError(res.status, messageOf(res.status, body), body);
      }
      return res.blob();
    },
  };
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
