// A data product's page: what it is, who owns it, its ports' data dictionary (with what
// governance masks for the viewer), SLA and quality, versions, lineage, sample queries to run,
// and how to connect from other tools.
import { useState } from 'preact/hooks';
import { html, ErrorBox, Loading, Badge, ResultGrid, useAsync, safeUrl, formatAge, formatTime } from './ui.js';
import { get, post, seg } from './api.js';
import { RequestAccess } from './access.js';

function Section({ id, title, children }) {
  return html`<section class="card section" aria-labelledby=${id}><h2 id=${id}>${title}</h2>${children}</section>`;
}

function DataDictionary({ port }) {
  const masked = port.columns.filter((c) => c.masked).length;
  return html`<div class="port" data-port=${port.name}>
    <h3><code>${port.table}</code> <span class="muted">${port.records} rows</span></h3>
    ${port.description ? html`<p>${port.description}</p>` : null}
    <p class="access-line">
      ${port.can_read
        ? html`<${Badge} kind="ok">You can read this data<//>`
        : html`<${Badge} kind="denied" title=${port.read_denied}>No read access<//> <span class="muted">${port.read_denied}</span>`}
      ${masked ? html` <${Badge} kind="masked">${masked} column${masked === 1 ? '' : 's'} masked for you<//>` : null}
      ${port.row_filtered ? html` <${Badge} kind="masked" title=${(port.row_filter_policies || []).join(', ')}>Rows filtered for you<//>` : null}
    </p>
    ${port.access_error ? html`<p class="notice" role="status">${port.access_error}</p>` : null}

    <div class="grid-scroll full" tabindex="0" role="region" aria-label=${`Columns of ${port.table}`}>
      <table class="dictionary">
        <thead><tr><th scope="col">Column</th><th scope="col">Type</th><th scope="col">Classification</th><th scope="col">For you</th><th scope="col">Description</th></tr></thead>
        <tbody>${port.columns.map((c) => html`<tr data-column=${c.name} class=${c.masked ? 'is-masked' : ''}>
          <th scope="row"><code>${c.name}</code>${c.primary_key ? html` <${Badge} title="primary key">key<//>` : null}</th>
          <td><code>${c.type}</code>${c.nullable ? '' : html` <span class="muted">not null</span>`}</td>
          <td>${c.classification ? html`<${Badge} kind="class">${c.classification}<//>` : html`<span class="muted">—</span>`}${c.encrypted ? html` <${Badge} title=${`the data files store this column encrypted (${c.encrypted}); meshwork decrypts it for queries`}>encrypted<//>` : null}</td>
          <td>${c.masked ? html`<${Badge} kind="masked" title=${`masked by policy rule ${c.mask_policy}`}>masked<//><div class="mask-by muted">by ${c.mask_policy}</div>` : html`<span class="muted">clear</span>`}</td>
          <td class="doc">${c.description}</td>
        </tr>`)}</tbody>
      </table>
    </div>
  </div>`;
}

function SampleQuery({ sample, index }) {
  const [state, setState] = useState({ running: false, result: null, error: null });
  const run = async () => {
    setState({ running: true, result: null, error: null });
    try {
      const result = await post('/api/v1/query', { sql: sample.sql, 'max-rows': 200 });
      setState({ running: false, result, error: null });
    } catch (error) {
      setState({ running: false, result: null, error });
    }
  };
  const id = `sample-${index}`;
  return html`<div class="sample" data-sample=${index}>
    <h3 id=${id}>${sample.title}</h3>
    <pre class="sql"><code>${sample.sql}</code></pre>
    <div class="actions">
      <button type="button" class="primary" onClick=${run} disabled=${state.running} aria-describedby=${id}>${state.running ? 'Running…' : 'Run'}</button>
      <a class="button" href=${`#/sql?q=${encodeURIComponent(sample.sql)}`}>Open in the workbench</a>
    </div>
    ${state.running ? html`<${Loading} what="rows" />` : null}
    <${ErrorBox} error=${state.error} title="The query failed" />
    <${ResultGrid} result=${state.result} caption=${sample.title} />
  </div>`;
}

function QualityChart({ versions }) {
  const points = versions.filter((v) => v.quality_total > 0).slice(-20);
  if (!points.length) return html`<p class="muted">No quality results yet.</p>`;
  const width = 28 * points.length + 10;
  return html`<figure class="chart">
    <svg width=${width} height="90" role="img" aria-label=${`Quality rules passed per deploy: ${points.map((p) => `${p.version} ${p.quality_passed}/${p.quality_total}`).join(', ')}`}>
      ${points.map((p, i) => {
        const ratio = p.quality_passed / p.quality_total;
        const height = Math.max(2, Math.round(ratio * 60));
        return html`<g><rect x=${10 + i * 28} y=${70 - height} width="18" height=${height} class=${ratio === 1 ? 'bar-ok' : 'bar-warn'}><title>${p.version}: ${p.quality_passed} of ${p.quality_total} rules passed</title></rect>
          <text x=${19 + i * 28} y="84" text-anchor="middle" class="chart-label">${p.version}</text></g>`;
      })}
    </svg>
    <figcaption class="muted">Quality rules passed per deploy</figcaption>
  </figure>`;
}

function Lineage({ graph, focus }) {
  if (!graph) return null;
  // Columns by distance from the focus along the longest path: upstream to the left, downstream
  // to the right, so that an edge always runs left to right (a product that reads both the focus
  // and one of its outputs sits right of both).
  const depth = new Map([[focus, 0]]);
  for (let grew = true, rounds = 0; grew && rounds < 50; rounds += 1) {
    grew = false;
    for (const e of graph.edges) {
      if (depth.has(e.from) && depth.get(e.from) >= 0 && e.to !== focus && (!depth.has(e.to) || depth.get(e.to) < depth.get(e.from) + 1)) {
        depth.set(e.to, depth.get(e.from) + 1); grew = true;
      }
      if (depth.has(e.to) && depth.get(e.to) <= 0 && e.from !== focus && (!depth.has(e.from) || depth.get(e.from) > depth.get(e.to) - 1)) {
        depth.set(e.from, depth.get(e.to) - 1); grew = true;
      }
    }
  }
  const columns = new Map();
  for (const [id, d] of depth) { if (!columns.has(d)) columns.set(d, []); columns.get(d).push(id); }
  const depths = [...columns.keys()].sort((a, b) => a - b);
  const position = new Map();
  const W = 230, H = 30, GX = 44, GY = 14;
  depths.forEach((d, ci) => columns.get(d).sort().forEach((id, ri) => position.set(id, { x: 8 + ci * (W + GX), y: 8 + ri * (H + GY) })));
  const width = 16 + depths.length * (W + GX) - GX;
  const height = 16 + Math.max(...depths.map((d) => columns.get(d).length)) * (H + GY) - GY;
  const href = (id) => { const [d, n] = id.split('.'); return n && !id.startsWith('file:') ? `#/product/${encodeURIComponent(d)}/${encodeURIComponent(n)}` : null; };
  const label = (id) => (id.length > 31 ? id.slice(0, 30) + '…' : id);
  const upstream = graph.edges.filter((e) => e.to === focus).map((e) => e.from);
  const downstream = graph.edges.filter((e) => e.from === focus).map((e) => e.to);
  const list = (ids) => ids.length ? html`<ul>${[...new Set(ids)].map((id) => html`<li>${href(id) ? html`<a href=${href(id)}>${id}</a>` : id}</li>`)}</ul>` : html`<p class="muted">none</p>`;
  return html`<div class="lineage" data-lineage=${focus}>
    <div class="lineage-graph grid-scroll"><svg width=${width} height=${height} role="img" aria-label=${`Lineage of ${focus}: ${graph.edges.map((e) => `${e.from} to ${e.to}`).join('; ')}`}>
      ${graph.edges.filter((e) => position.has(e.from) && position.has(e.to)).map((e) => {
        const a = position.get(e.from), b = position.get(e.to);
        return html`<path class="edge" d=${`M${a.x + W},${a.y + H / 2} C${a.x + W + GX / 2},${a.y + H / 2} ${b.x - GX / 2},${b.y + H / 2} ${b.x},${b.y + H / 2}`} />`;
      })}
      ${[...position].map(([id, p]) => {
        const box = html`<g class=${id === focus ? 'node focus' : 'node'}><rect x=${p.x} y=${p.y} width=${W} height=${H} rx="6" /><text x=${p.x + 10} y=${p.y + 19}>${label(id)}</text><title>${id}</title></g>`;
        return href(id) && id !== focus ? html`<a href=${href(id)}>${box}</a>` : box;
      })}
    </svg></div>
    <div class="lineage-lists"><div><h3>Upstream</h3>${list(upstream)}</div><div><h3>Downstream</h3>${list(downstream)}</div></div>
  </div>`;
}

// As the server listens: its HTTP base (as this browser reached it), the Iceberg REST catalog,
// the PostgreSQL wire server's own host and port (or that it is off).
function Connect({ connect, table }) {
  const c = connect || {};
  const base = c.http_base || window.location.origin;
  const catalog = c.catalog_uri || `${base}/catalog`;
  const mesh = c.mesh || 'mesh';
  const pg = c.pg;
  return html`<dl class="facts connect" data-connect>
    <dt>SQL name</dt><dd><code>${table}</code></dd>
    <dt>HTTP</dt><dd><code>POST ${base}/api/v1/query</code> <span class="muted">with a bearer token (<code>POST /catalog/v1/oauth/tokens</code>)</span></dd>
    <dt>psql</dt><dd>${pg
      ? html`<code data-psql>psql "host=${pg.host} port=${pg.port} dbname=${pg.database} user=CLIENT_ID${pg.tls ? ' sslmode=require' : ''}"</code> <span class="muted">password: the client secret</span>`
      : html`<span class="muted" data-psql-off>This server runs without the PostgreSQL wire server (<code>meshwork serve --pg off</code>): use HTTP or Iceberg REST.</span>`}</dd>
    <dt>Iceberg REST</dt><dd><code>${catalog}</code> <span class="muted">warehouse <code>${mesh}</code>, table <code>${table}</code>, credential <code>CLIENT_ID:SECRET</code></span></dd>
  </dl>
  <details class="connect-more">
    <summary>Spark, Trino and PyIceberg settings</summary>
    <pre class="sql"><code>${`# Spark
spark.sql.catalog.${mesh}=org.apache.iceberg.spark.SparkCatalog
spark.sql.catalog.${mesh}.type=rest
spark.sql.catalog.${mesh}.uri=${catalog}
spark.sql.catalog.${mesh}.warehouse=${mesh}
spark.sql.catalog.${mesh}.credential=CLIENT_ID:SECRET
spark.sql.catalog.${mesh}.scope=PRINCIPAL_ROLE:ALL

# Trino (etc/catalog/${mesh}.properties)
connector.name=iceberg
iceberg.catalog.type=rest
iceberg.rest-catalog.uri=${catalog}
iceberg.rest-catalog.warehouse=${mesh}
iceberg.rest-catalog.security=OAUTH2
iceberg.rest-catalog.oauth2.credential=CLIENT_ID:SECRET
iceberg.rest-catalog.oauth2.scope=PRINCIPAL_ROLE:ALL

# PyIceberg
from pyiceberg.catalog import load_catalog
mesh = load_catalog("${mesh}", type="rest", uri="${catalog}", warehouse="${mesh}",
                    credential="CLIENT_ID:SECRET", scope="PRINCIPAL_ROLE:ALL")
table = mesh.load_table("${table}")`}</code></pre>
  </details>`;
}

export function ProductPage({ domain, name }) {
  const base = `${seg(domain)}/${seg(name)}`;
  const product = useAsync((signal) => get(`/api/v1/portal/products/${base}`, { signal }), [base]);
  const extras = useAsync(async (signal) => {
    const [versions, lineage, status] = await Promise.all([
      get(`/api/v1/products/${base}/versions`, { signal }).catch((e) => ({ error: e })),
      get(`/api/v1/lineage/${base}`, { signal }).catch((e) => ({ error: e })),
      get(`/api/v1/products/${base}/status`, { signal }).catch((e) => ({ error: e })),
    ]);
    return { versions, lineage, status };
  }, [base]);
  if (product.loading) return html`<${Loading} what="the product" />`;
  if (product.error) return html`<${ErrorBox} error=${product.error} title=${`Cannot open ${domain}.${name}`} />`;
  const p = product.data;
  const sla = p.sla || {};
  const extra = extras.data || {};
  const versions = (extra.versions && extra.versions.versions) || [];
  const card = extra.status && extra.status.scorecard;
  const primary = (p.ports && p.ports[0] && p.ports[0].table) || p.product;
  return html`<article class="product" data-product=${p.product}>
    <header class="product-head">
      <p class="crumbs"><a href=${`#/domain/${seg(p.domain)}`}>${p.domain}</a> / ${p.name}</p>
      <h1>${p.title || p.product}</h1>
      <p><code>${p.product}</code> · version ${p.version} ${p.state !== 'active' ? html`<${Badge} kind="denied">${p.state}<//>` : null}
        · owner <strong>${p.owner && p.owner.team}</strong>${p.owner && p.owner.email ? html` (<a href=${safeUrl('mailto:' + p.owner.email)}>${p.owner.email}</a>)` : null}${' '}
        · published ${formatTime(p.published_at_ms)} by ${p.published_by}</p>
      <p class="tags">${(p.tags || []).map((t) => html`<a class="badge" href=${`#/search?tag=${encodeURIComponent(t)}`}>${t}</a>`)}</p>
    </header>
    <div class="product-grid">
      <div class="product-main">
        <${Section} id="about" title="About">
          <p class="description">${p.description}</p>
          ${(p.glossary || []).length ? html`<p class="muted">Glossary: ${p.glossary.join(', ')}</p>` : null}
          ${(p.links || []).length ? html`<ul class="links">${p.links.map((l) => {
            const url = safeUrl(l.url);
            return html`<li>${url ? html`<a href=${url} rel="noopener noreferrer" target="_blank">${l.title}</a>` : html`<span>${l.title} (${l.url})</span>`}</li>`;
          })}</ul>` : null}
        <//>
        <${Section} id="ports" title="Ports and data dictionary">
          ${(p.ports || []).some((port) => !port.can_read) ? html`<${RequestAccess} product=${p.product} />` : null}
          ${(p.ports || []).map((port) => html`<${DataDictionary} port=${port} />`)}
        <//>
        <${Section} id="samples" title="Sample queries">
          ${(p.sample_queries || []).length ? p.sample_queries.map((s, i) => html`<${SampleQuery} sample=${s} index=${i} />`) : html`<p class="muted">The owner gave no sample queries.</p>`}
        <//>
        <${Section} id="lineage" title="Lineage">
          ${extras.loading ? html`<${Loading} what="lineage" />` : extra.lineage && extra.lineage.error ? html`<${ErrorBox} error=${extra.lineage.error} />` : html`<${Lineage} graph=${extra.lineage} focus=${p.product} />`}
        <//>
      </div>
      <aside class="product-side">
        <${Section} id="sla" title="SLA and freshness">
          <dl class="facts">
            <dt>Freshness</dt><dd><${Badge} kind=${sla.status === 'fresh' ? 'ok' : sla.status === 'late' ? 'denied' : ''}>${sla.status || 'unknown'}<//> ${sla.freshness ? html`<span class="muted">max age ${sla.freshness}; now ${formatAge(sla.age_seconds)}</span>` : null}</dd>
            ${sla.schedule ? html`<dt>Schedule</dt><dd><code>${sla.schedule}</code></dd>` : null}
            ${sla.availability !== undefined ? html`<dt>Availability</dt><dd>${sla.availability} %</dd>` : null}
            ${sla.support ? html`<dt>Support</dt><dd>${sla.support}</dd>` : null}
            <dt>Quality</dt><dd>${p.quality_passed} of ${p.quality_total} rules passed</dd>
            ${card ? html`<dt>Score</dt><dd><strong>${card.score}</strong>/100</dd>` : null}
          </dl>
          ${extras.loading ? null : html`<${QualityChart} versions=${versions} />`}
        <//>
        <${Section} id="connect" title="How to connect">
          <${Connect} connect=${p.connect} table=${primary} />
        <//>
        <${Section} id="versions" title="Versions">
          ${extras.loading ? html`<${Loading} what="versions" />` : html`<ol class="versions" reversed>${versions.slice().reverse().slice(0, 15).map((v) => html`<li>
            <strong>${v.version}</strong> <span class="muted">${v.action} · ${formatTime(v.at_ms)} · ${v.by}</span>
            ${v.summary ? html`<div class="muted">${v.summary}</div>` : null}
            ${(v.changes || []).length ? html`<ul class="contract-diff" aria-label=${`contract changes of ${v.version}`}>${v.changes.map((c) => html`<li data-bump=${c.bump}><code>${c.port}${c.column ? `.${c.column}` : ''}</code> ${c.what} <span class="muted">(${c.bump})</span></li>`)}</ul>` : null}</li>`)}</ol>`}
        <//>
      </aside>
    </div>
  </article>`;
}
