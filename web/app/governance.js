// The governance council's page: the policies in force, every product's scorecard and the
// governance warnings of its last deploy, the access decisions of the audit log (GET
// /api/v1/audit, filtered by principal, table and decision) and a search over the change events.
// The server answers 403 to anyone without READ_AUDIT on the mesh; the page shows that refusal
// as worded.
import { useEffect, useState } from 'preact/hooks';
import { html, ErrorBox, Loading, Badge, formatTime } from './ui.js';
import { get } from './api.js';

// Access decisions: who did what on which table, allowed or denied and why, policies applied.
function AccessDecisions() {
  const [filter, setFilter] = useState({ principal: '', securable: '', decision: '' });
  const [state, setState] = useState({ records: null, error: null, loading: true });
  useEffect(() => {
    const controller = new AbortController();
    const timer = setTimeout(() => {
      setState((s) => ({ ...s, loading: true }));
      const query = new URLSearchParams({ limit: '200' });
      for (const [key, value] of Object.entries(filter)) if (value) query.set(key, value.trim());
      get(`/api/v1/audit?${query}`, { signal: controller.signal }).then(
        (data) => setState({ records: data.records, error: null, loading: false }),
        (error) => { if (error.name !== 'AbortError') setState({ records: null, error, loading: false }); });
    }, 150);
    return () => { clearTimeout(timer); controller.abort(); };
  }, [filter.principal, filter.securable, filter.decision]);
  const set = (key) => (e) => setFilter({ ...filter, [key]: e.currentTarget.value });
  return html`<section class="card section" aria-labelledby="g-decisions"><h2 id="g-decisions">Access decisions</h2>
    <div class="filters">
      <label>Principal <input id="decision-principal" type="search" value=${filter.principal} onInput=${set('principal')} placeholder="mkt_analyst" /></label>
      <label>Table <input id="decision-securable" type="search" value=${filter.securable} onInput=${set('securable')} placeholder="customers.customers" /></label>
      <label>Decision <select id="decision-kind" value=${filter.decision} onChange=${set('decision')}>
        <option value="">any</option><option value="allowed">allowed</option><option value="denied">denied</option></select></label>
    </div>
    ${state.error ? html`<${ErrorBox} error=${state.error} title="The audit log is not available" />` : html`
    <p class="muted" role="status">${state.loading ? 'Searching…' : `${(state.records || []).length} newest matching decisions`}</p>
    <div class="grid-scroll"><table class="decisions"><thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">Via</th><th scope="col">Operation</th><th scope="col">On</th><th scope="col">Decision</th><th scope="col">Why</th><th scope="col">Policies</th><th scope="col">Rows</th></tr></thead>
    <tbody>${(state.records || []).map((r) => html`<tr data-decision=${r.id}><td>${formatTime(r['at-ms'])}</td><td>${r.principal}</td><td>${r.channel}</td>
      <td><code>${r.operation}</code></td><td>${r.securables.map((s) => html`<code>${s}</code> `)}</td>
      <td><${Badge} kind=${r.decision === 'allowed' ? 'ok' : 'denied'}>${r.decision}<//></td>
      <td class="details">${r.reason}</td><td>${r.policies.map((p) => html`<div><code>${p}</code></div>`)}</td>
      <td>${r.rows ?? ''}</td></tr>`)}</tbody></table></div>`}
  </section>`;
}

// Masks, row filters and encryption apply on every read: they have no block/warn severity.
const isEnforcement = (kind) => kind === 'mask' || kind === 'row_filter' || kind === 'encrypt';
// The rule's check as the council wrote it.
function ruleCode(rule) {
  if (rule.sql) return rule.sql;
  if (rule.detector) return `detector ${rule.detector}${rule['sample-rows'] === 0 ? ', every row' : rule['sample-rows'] ? `, ${rule['sample-rows']} rows sampled` : ''}`;
  if (rule.mask) return `mask ${rule.mask}`;
  if (rule.mode) return `mode ${rule.mode}`;
  return '';
}

export function GovernancePage() {
  const [audit, setAudit] = useState('');
  const [state, setState] = useState({ data: null, error: null, loading: true });
  useEffect(() => {
    const controller = new AbortController();
    const timer = setTimeout(() => {
      setState((s) => ({ ...s, loading: true }));
      get(`/api/v1/governance/overview?audit=${encodeURIComponent(audit)}`, { signal: controller.signal }).then(
        (data) => setState({ data, error: null, loading: false }),
        (error) => { if (error.name !== 'AbortError') setState({ data: null, error, loading: false }); });
    }, 150);
    return () => { clearTimeout(timer); controller.abort(); };
  }, [audit]);
  if (state.error) return html`<h1>Governance</h1><${ErrorBox} error=${state.error} title="The governance page is not available to you" />`;
  if (!state.data) return html`<${Loading} what="the governance overview" />`;
  const { policies, applied, products, events } = state.data;
  return html`<div class="governance">
    <h1>Governance</h1>
    <p class="muted">Policies v${applied.version}${applied['applied-by'] ? ` applied by ${applied['applied-by']} ${formatTime(applied['applied-at-ms'])}` : ''}</p>
    <section class="card section" aria-labelledby="g-policies"><h2 id="g-policies">Policies</h2>
      ${policies.map((p) => html`<div class="policy" data-policy=${p.name}>
        <h3>${p.name} <span class="muted">· ${p.owner}</span></h3><p>${p.description}</p>
        <table><thead><tr><th scope="col">Rule</th><th scope="col">Kind</th><th scope="col">Severity</th><th scope="col">Scope</th><th scope="col">Description</th><th scope="col">Check</th></tr></thead>
        <tbody>${p.rules.map((r) => html`<tr><th scope="row"><code>${r.id}</code></th><td>${r.kind}</td>
          <td>${isEnforcement(r.kind) ? html`<${Badge} kind="ok">enforced<//>` : html`<${Badge} kind=${r.severity === 'block' ? 'denied' : 'masked'}>${r.severity}<//>`}</td>
          <td>${Object.entries(r.scope).filter(([, v]) => v && v.length).map(([k, v]) => html`<div><span class="muted">${k}:</span> ${v.join(', ')}</div>`)}</td>
          <td>${r.description}${r.rationale ? html`<div class="muted">${r.rationale}</div>` : ''}</td>
          <td class="rule-check"><code>${ruleCode(r)}</code></td></tr>`)}</tbody></table>
        ${p.source ? html`<details><summary>${(p.file || p.name).split('/').pop()} as applied</summary><pre class="policy-source">${p.source}</pre></details>` : ''}</div>`)}
    </section>
    <section class="card section" aria-labelledby="g-cards"><h2 id="g-cards">Scorecards and violations</h2>
      <div class="grid-scroll full"><table class="scorecards"><thead><tr><th scope="col">Product</th><th scope="col">Score</th><th scope="col">Documentation</th><th scope="col">Freshness</th><th scope="col">Quality</th><th scope="col">Governance warnings</th></tr></thead>
      <tbody>${products.map((p) => {
        const c = p.scorecard || {};
        const [d, n] = p.product.split('.');
        return html`<tr data-product=${p.product}><th scope="row"><a href=${`#/product/${encodeURIComponent(d)}/${encodeURIComponent(n)}`}>${p.product}</a> <span class="muted">v${p.version}</span></th>
          <td><strong>${c.score ?? '—'}</strong></td><td>${c.documentation !== undefined ? `${Math.round(c.documentation * 100)} %` : '—'}</td>
          <td><${Badge} kind=${c.freshness === 'fresh' ? 'ok' : c.freshness === 'late' ? 'denied' : ''}>${c.freshness || 'unknown'}<//></td>
          <td>${c.quality_pass_rate !== undefined ? `${Math.round(c.quality_pass_rate * 100)} %` : '—'}</td>
          <td>${(p.warnings || []).length ? html`<ul class="warnings">${p.warnings.map((w) => html`<li>${w}</li>`)}</ul>` : html`<span class="muted">none</span>`}</td></tr>`;
      })}</tbody></table></div>
    </section>
    <${AccessDecisions} />
    <section class="card section" aria-labelledby="g-audit"><h2 id="g-audit">Change events</h2>
      <label for="audit-search">Search changes (principal, action, object, details)</label>
      <input id="audit-search" type="search" value=${audit} onInput=${(e) => setAudit(e.currentTarget.value)} placeholder="e.g. approveAccess or finance.q3_revenue" />
      <p class="muted" role="status">${state.loading ? 'Searching…' : `${events.length} newest matching events`}</p>
      <div class="grid-scroll"><table class="audit"><thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">Action</th><th scope="col">Object</th><th scope="col">Details</th></tr></thead>
      <tbody>${events.map((e) => html`<tr data-event=${e.id}><td>${formatTime(e.at_ms)}</td><td>${e.principal}</td><td><code>${e.action}</code></td>
        <td>${e.object_kind} <code>${e.object_name}</code></td><td class="details">${e.details}</td></tr>`)}</tbody></table></div>
    </section>
  </div>`;
}
