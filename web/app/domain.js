// A domain: what it is, who owns it, its products with their scorecards.
import { html, ErrorBox, Loading, Badge, useAsync } from './ui.js';
import { get, seg } from './api.js';

export function DomainPage({ domain }) {
  const state = useAsync(async (signal) => {
    const [info, products] = await Promise.all([
      get(`/api/v1/domains/${seg(domain)}`, { signal }),
      get(`/api/v1/products?domain=${seg(domain)}`, { signal }),
    ]);
    const list = products.products || [];
    // Each product's scorecard (documentation, freshness, quality, governance warnings).
    const cards = await Promise.all(list.map((p) => get(`/api/v1/products/${seg(p.domain)}/${seg(p.name)}/status`, { signal })
      .then((status) => status.scorecard, (error) => ({ error }))));
    return { info, products: list, cards };
  }, [domain]);
  if (state.loading) return html`<${Loading} what="the domain" />`;
  if (state.error) return html`<${ErrorBox} error=${state.error} title=${`Cannot open domain ${domain}`} />`;
  const { info, products, cards } = state.data;
  const percent = (value) => (value === undefined || value === null ? '—' : `${Math.round(value * 100)} %`);
  return html`<article class="domain">
    <h1>Domain ${info.name}</h1>
    <p class="description">${info.description}</p>
    <p class="muted">Owner ${info.owner} · roles <code>${info.owner_role}</code> (publish) and <code>${info.consumer_role}</code> (read)</p>
    <h2>Products</h2>
    ${products.length ? html`<ul class="hits">${products.map((p, i) => {
      const card = cards[i] || {};
      return html`<li class="hit card" data-product=${p.product}>
      <h3><a href=${`#/product/${seg(p.domain)}/${seg(p.name)}`}>${p.title || p.product}</a></h3>
      <p class="hit-name"><code>${p.product}</code> · v${p.version} ${p.state !== 'active' ? html`<${Badge} kind="denied">${p.state}<//>` : null}</p>
      ${card.error ? html`<p class="muted">Scorecard: ${card.error.message}</p>` : html`<p class="scorecard">
        Score <strong>${card.score}</strong>/100 · documentation ${percent(card.documentation)} ·
        freshness <${Badge} kind=${card.freshness === 'fresh' ? 'ok' : card.freshness === 'late' ? 'denied' : ''}>${card.freshness || 'unknown'}<//> ·
        quality ${percent(card.quality_pass_rate)} · governance warnings ${card.governance_warnings || 0}</p>`}
    </li>`;
    })}</ul>` : html`<p class="empty">No products published in ${info.name} yet. <a href="#/new">Create one</a>.</p>`}
  </article>`;
}
