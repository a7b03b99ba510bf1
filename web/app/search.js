// Catalog search: ranked results as you type, facets (domain, tag, owner, classification, health) with
// counts over the products that match, filters kept in the address so a search can be shared.
import { useEffect, useRef, useState } from 'preact/hooks';
import { html, ErrorBox, Badge } from './ui.js';
import { get } from './api.js';

const FACETS = [
  ['domain', 'Domain'],
  ['tag', 'Tag'],
  ['owner', 'Owner'],
  ['classification', 'Classification'],
  ['health', 'Health'],
];

function writeAddress(q, filters) {
  const params = new URLSearchParams();
  if (q) params.set('q', q);
  for (const [key, value] of Object.entries(filters)) if (value) params.set(key, value);
  const text = params.toString();
  history.replaceState(null, '', `#/search${text ? '?' + text : ''}`);
}

export function SearchPage({ params }) {
  const [q, setQ] = useState(params.get('q') || '');
  const [filters, setFilters] = useState(Object.fromEntries(FACETS.map(([key]) => [key, params.get(key) || ''])));
  const [result, setResult] = useState(null);
  const [error, setError] = useState(null);
  const [loading, setLoading] = useState(true);
  const [elapsed, setElapsed] = useState(null);
  const first = useRef(null);

  useEffect(() => {
    const controller = new AbortController();
    const timer = setTimeout(async () => {
      const query = new URLSearchParams({ q });
      for (const [key, value] of Object.entries(filters)) if (value) query.set(key, value);
      const started = performance.now();
      setLoading(true);
      try {
        const data = await get(`/api/v1/search?${query}`, { signal: controller.signal });
        setResult(data);
        setError(null);
        setElapsed(Math.round(performance.now() - started));
      } catch (e) {
        if (e.name !== 'AbortError') setError(e);
      } finally {
        if (!controller.signal.aborted) setLoading(false);
      }
      writeAddress(q, filters);
    }, 80);
    return () => { clearTimeout(timer); controller.abort(); };
  }, [q, filters]);

  const toggle = (key, value) => setFilters({ ...filters, [key]: filters[key] === value ? '' : value });
  const hits = (result && result.hits) || [];
  const onKeyDown = (event) => {
    if (event.key === 'ArrowDown' && first.current) { event.preventDefault(); first.current.focus(); }
  };
  return html`<div class="search-page">
    <h1 class="sr-only">Catalog</h1>
    <div class="search-box">
      <label for="search-input" class="sr-only">Search data products</label>
      <input id="search-input" type="search" placeholder="Search products, columns, tags, owners…" value=${q}
        autofocus autocomplete="off" aria-describedby="search-status"
        onInput=${(e) => setQ(e.currentTarget.value)} onKeyDown=${onKeyDown} />
      <p id="search-status" class="muted" role="status" aria-live="polite">
        ${loading ? 'Searching…' : result ? `${hits.length} product${hits.length === 1 ? '' : 's'}${elapsed !== null ? ` · ${elapsed} ms` : ''}` : ''}
      </p>
    </div>
    <div class="search-layout">
      <aside class="facets" aria-label="Filters">
        ${FACETS.map(([key, label]) => {
          const counts = (result && result.facets && result.facets[key]) || {};
          const values = Object.entries(counts).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
          if (filters[key] && !counts[filters[key]]) values.unshift([filters[key], 0]);
          if (!values.length) return null;
          return html`<fieldset class="facet">
            <legend>${label}</legend>
            ${values.slice(0, 12).map(([value, count]) => html`<label class="facet-value">
              <input type="checkbox" checked=${filters[key] === value} onChange=${() => toggle(key, value)} />
              <span class="facet-name">${value}</span><span class="count">${count}</span>
            </label>`)}
          </fieldset>`;
        })}
      </aside>
      <section class="results" aria-label="Results">
        <${ErrorBox} error=${error} title="Search failed" />
        ${!loading && result && !hits.length ? html`<p class="empty">No product matches${q ? html` “${q}”` : ''}. Try fewer words or clear a filter.</p>` : null}
        <ol class="hits">
          ${hits.map((hit, index) => {
            const [domain, name] = hit.product.split('.');
            return html`<li class="hit card" data-product=${hit.product}>
              <h2><a href=${`#/product/${encodeURIComponent(domain)}/${encodeURIComponent(name)}`} ref=${index === 0 ? first : null}>${hit.title || hit.product}</a></h2>
              <p class="hit-name"><code>${hit.product}</code> · v${hit.version} · owner ${hit.owner}
                ${hit.health ? html` · <${Badge} kind=${hit.health === 'healthy' ? 'ok' : hit.health === 'stale' ? 'denied' : 'masked'}>${hit.health}<//>` : null}</p>
              <p class="hit-description">${(hit.description || '').slice(0, 260)}${(hit.description || '').length > 260 ? '…' : ''}</p>
              <p class="tags">${(hit.tags || []).map((t) => html`<${Badge}>${t}<//>`)}
                ${(hit.matched || []).length ? html`<span class="muted matched">matched: ${[...new Set(hit.matched)].join(', ')}</span>` : null}</p>
            </li>`;
          })}
        </ol>
      </section>
    </div>
  </div>`;
}
