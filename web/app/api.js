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

export const get = (path, options) => api('GET', path, undefined, options);
export const post = (path, body, options) => api('POST', path, body === undefined ? {} : body, options);
export const del = (path) => api('DELETE', path);

/// A path segment, escaped.
export const seg = (text) => encodeURIComponent(text);
