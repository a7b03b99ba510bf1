// Shared pieces: the html`` template tag (Preact + htm: every interpolated value is a text node
// or a property, never parsed as markup), loading and error states, the results grid.
import { h } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import htm from 'htm';

export const html = htm.bind(h);

/// Only http(s) and mailto links from product metadata become clickable: a javascript: URL in
/// a spec stays text.
export function safeUrl(url) {
  try {
    const parsed = new URL(url, window.location.origin);
    return ['http:', 'https:', 'mailto:'].includes(parsed.protocol) ? parsed.href : null;
  } catch {
    return null;
  }
}

export function navigate(hash) { window.location.hash = hash; }

/// Runs `load(signal)` whenever `deps` change: {data, error, loading, reload}.
export function useAsync(load, deps) {
  const [state, setState] = useState({ data: null, error: null, loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const controller = new AbortController();
    setState((s) => ({ ...s, loading: true, error: null }));
    load(controller.signal).then(
      (data) => { if (!controller.signal.aborted) setState({ data, error: null, loading: false }); },
      (error) => {
        if (error.name === 'AbortError') return;
        setState({ data: null, error, loading: false });
      });
    return () => controller.abort();
  }, [...deps, tick]);
  return { ...state, reload: () => setTick((t) => t + 1) };
}

export function Loading({ what }) {
  return html`<p class="loading" role="status" aria-live="polite"><span class="spinner" aria-hidden="true"></span>Loading ${what}…</p>`;
}

export function ErrorBox({ error, title }) {
  if (!error) return null;
  return html`<div class="error" role="alert">
    <strong>${title || 'Something went wrong'}</strong>
    <p>${error.message}</p>
    ${error.details && error.details.where ? html`<p>Where: <code>${error.details.where}</code></p>` : null}
    ${error.details && error.details.hint ? html`<p>What to do: ${error.details.hint}</p>` : null}
    ${error.status ? html`<p class="muted">HTTP ${error.status}${error.details && error.details.type ? ` · ${error.details.type}` : ''}</p>` : null}
  </div>`;
}

export function Badge({ kind, children, title }) {
  return html`<span class=${`badge ${kind || ''}`} title=${title}>${children}</span>`;
}

export function formatAge(seconds) {
  if (seconds === undefined || seconds === null) return 'unknown';
  if (seconds < 90) return `${seconds} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} days`;
}

export function formatTime(ms) {
  if (!ms) return '';
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

export function cellText(value) {
  if (value === null || value === undefined) return null;
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

const numeric = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|FLOAT|DOUBLE|DECIMAL)/;

/// A result: column names with their types, rows; NULL shown as such.
export function ResultGrid({ result, caption }) {
  if (!result) return null;
  const columns = result.columns || [];
  const rows = result.rows || [];
  const stats = result.stats || {};
  return html`<div class="result">
    <p class="muted result-stats" role="status">
      ${rows.length} row${rows.length === 1 ? '' : 's'}${stats.truncated ? ' (truncated)' : ''}
      ${stats['elapsed-ms'] !== undefined ? ` in ${Math.round(stats['elapsed-ms'])} ms` : ''}
      ${(stats.tables || []).filter((t) => (t.masks || []).length || (t['row-filters'] || []).length).map((t) =>
        html` · <span class="badge masked">${t.name}: ${(t.masks || []).length} masked column(s)${(t['row-filters'] || []).length ? ', rows filtered' : ''}</span>`)}
    </p>
    <div class="grid-scroll" tabindex="0" role="region" aria-label=${caption || 'Query result'}>
      <table class="grid">
        <caption class="sr-only">${caption || 'Query result'}</caption>
        <thead><tr>${columns.map((c) => html`<th scope="col"><span class="col-name">${c.name}</span><span class="col-type">${c.type}</span></th>`)}</tr></thead>
        <tbody>${rows.map((row) => html`<tr>${row.map((value, i) => {
          const text = cellText(value);
          const isNumber = numeric.test((columns[i] && columns[i].type) || '');
          return text === null ? html`<td class="null">NULL</td>` : html`<td class=${isNumber ? 'num' : ''}>${text}</td>`;
        })}</tr>`)}</tbody>
      </table>
    </div>
  </div>`;
}

/// RFC 4180 CSV of a result.
export function toCsv(result) {
  const quote = (value) => {
    const text = cellText(value);
    if (text === null) return '';
    return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  const lines = [result.columns.map((c) => quote(c.name)).join(',')];
  for (const row of result.rows) lines.push(row.map(quote).join(','));
  return lines.join('\r\n') + '\r\n';
}

export function downloadText(name, text, type) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
