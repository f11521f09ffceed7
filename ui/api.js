// Every call of the dashboard goes through api(): the key from this tab's
// sessionStorage as a Bearer header (never a cookie, never the URL), JSON in
// and out, problems turned into ApiError.
const k_storage_name = 'mailerd.key';

export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
  }
}

export function storedKey() {
  return sessionStorage.getItem(k_storage_name);
}

export function storeKey(key) {
  sessionStorage.setItem(k_storage_name, key);
}

export function forgetKey() {
  sessionStorage.removeItem(k_storage_name);
}

async function parse(response) {
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return { detail: text.slice(0, 200) };
  }
}

// A 401 means the key is gone (revoked, or never valid): back to the login.
export async function api(method, path, body) {
  const headers = { Authorization: `Bearer ${storedKey() || ''}` };
  const init = { method, headers, cache: 'no-store', credentials: 'omit', referrerPolicy: 'no-referrer' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  const data = await parse(response);
  if (response.status === 401) {
    forgetKey();
    window.dispatchEvent(new CustomEvent('mailerd:unauthorized'));
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

// "/v1/events" + {email: "a@b"} -> "/v1/events?email=a%40b"; empty values left out.
export function withQuery(path, params) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') query.set(name, value);
  }
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}
