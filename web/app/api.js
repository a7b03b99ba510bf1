// Every call to the server goes through api(): the session cookie rides along (same origin), the
// CSRF token is added to every state-changing call, and errors become ApiError with the server's
// own words (what failed, why, what to do).
let csrfToken = '';
let onSessionEnded = () => {};

export function setCsrfToken(token) { csrfToken = token || ''; }
export function whenSessionEnds(callback) { onSessionEnded = callback; }

export class ApiError extends Error {
  constructor(status, message, details) {
    super(message);
    this.status = status;
    this.details = details || {};
  }
}

export async function api(method, path, body, { signal } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET') headers['X-CSRF-Token'] = csrfToken;
  let response;
  try {
    response = await fetch(path, {
      method, headers, signal, credentials: 'same-origin', cache: 'no-store',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    if (error.name === 'AbortError') throw error;
    throw new ApiError(0, `Cannot reach the meshwork server (${error.message}). Check that it is still running, then retry.`);
  }
  if (response.status === 204) return null;
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!response.ok) {
    const message = (data && data.error && data.error.message) ||
      `${method} ${path} failed with HTTP ${response.status}`;
    if (response.status === 401 && path !== '/api/v1/session') onSessionEnded(message);
    throw new ApiError(response.status, message, data && data.error);
  }
  return data;
}

/// POST with Accept: application/x-ndjson: `onLine(object)` for every JSON line as it arrives
/// (a step of a deploy as it starts and ends). A refusal before the stream starts is an ApiError
/// in the server's words, like api().
export async function postStream(path, body, onLine, { signal } = {}) {
  let response;
  try {
    response = await fetch(path, {
      method: 'POST', signal, credentials: 'same-origin', cache: 'no-store',
      headers: { Accept: 'application/x-ndjson', 'Content-Type': 'application/json', 'X-CSRF-Token': csrfToken },
      body: JSON.stringify(body),
    });
  } catch (error) {
    if (error.name === 'AbortError') throw error;
    throw new ApiError(0, `Cannot reach the meshwork server (${error.message}). Check that it is still running, then retry.`);
  }
  const type = response.headers.get('content-type') || '';
  if (!response.ok || !type.startsWith('application/x-ndjson')) {
    const text = await response.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch { data = null; }
    if (response.ok) { onLine({ status: response.status, report: data }); return; }
    const message = (data && data.error && data.error.message) || `POST ${path} failed with HTTP ${response.status}`;
    if (response.status === 401) onSessionEnded(message);
    throw new ApiError(response.status, message, data && data.error);
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let pending = '';
  for (;;) {
    let chunk;
    try {
      chunk = await reader.read();
    } catch (error) {
      throw new ApiError(0, `The connection to the meshwork server broke during ${path} (${error.message}); the server finishes what it started: look at the product's versions before retrying.`);
    }
    if (chunk.done) break;
    pending += chunk.value;
    for (let end; (end = pending.indexOf('\n')) >= 0;) {
      const line = pending.slice(0, end).trim();
      pending = pending.slice(end + 1);
      if (line) onLine(JSON.parse(line));
    }
  }
  if (pending.trim()) onLine(JSON.parse(pending));
}

export const get = (path, options) => api('GET', path, undefined, options);
export const post = (path, body, options) => api('POST', path, body === undefined ? {} : body, options);
export const del = (path) => api('DELETE', path);

/// A path segment, escaped.
export const seg = (text) => encodeURIComponent(text);
