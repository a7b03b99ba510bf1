// A domain: what it is, who owns it, its products.
import { html, ErrorBox, Loading, Badge, useAsync } from './ui.js';
import { get, seg } from './api.js';

export function DomainPage({ domain }) {
  const state = useAsync(async (signal) => {
    const [info, products] = await Promise.all([
      get(`/api/v1/domains/${seg(domain)}`, { signal }),
      get(`/api/v1/products?domain=${seg(domain)}`, { signal }),
    ]);
    return { info, products: products.products || [] };
  }, [domain]);
  if (state.loading) return html`<${Loading} what="the domain" />`;
  if (state.error) return html`<${ErrorBox} error=${state.error} title=${`Cannot open domain ${domain}`} />`;
  const { info, products } = state.data;
  return html`<article class="domain">
    <h1>Domain ${info.name}</h1>
    <p class="description">${info.description}</p>
    <p class="muted">Owner ${info.owner} · roles <code>${info.owner_role}</code> (publish) and <code>${info.consumer_role}</code> (read)</p>
    <h2>Products</h2>
    <ul class="hits">${products.map((p) => html`<li class="hit card">
      <h3><a href=${`#/product/${seg(p.domain)}/${seg(p.name)}`}>${p.title || p.product}</a></h3>
      <p class="hit-name"><code>${p.product}</code> · v${p.version} ${p.state !== 'active' ? html`<${Badge} kind="denied">${p.state}<//>` : null}</p>
    </li>`)}</ul>
  </article>`;
}
