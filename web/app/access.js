// Access requests: a consumer asks for a product's data with a reason; its owner approves (the
// catalog grants READ_DATA) or denies.
import { useState } from 'preact/hooks';
import { html, ErrorBox, Loading, Badge, useAsync, formatTime } from './ui.js';
import { get, post, seg } from './api.js';

/// The form on a product page the caller may not read.
export function RequestAccess({ product, onDone }) {
  const [reason, setReason] = useState('');
  const [state, setState] = useState({ busy: false, error: null, done: null });
  const submit = async (event) => {
    event.preventDefault();
    setState({ busy: true, error: null, done: null });
    try {
      const created = await post('/api/v1/access-requests', { product, reason });
      setState({ busy: false, error: null, done: created });
      if (onDone) onDone(created);
    } catch (error) {
      setState({ busy: false, error, done: null });
    }
  };
  if (state.done) {
    return html`<p class="notice" role="status" data-access-request=${state.done.id}>Access requested. The owner of ${product} decides; follow it under <a href="#/access">Access requests</a>.</p>`;
  }
  return html`<form class="request-access" onSubmit=${submit}>
    <label for="access-reason">Why do you need this data?</label>
    <textarea id="access-reason" rows="2" required value=${reason} onInput=${(e) => setReason(e.currentTarget.value)}
      placeholder="e.g. campaign ROI per customer segment for the Q3 review"></textarea>
    <div class="actions"><button type="submit" class="primary" disabled=${state.busy}>${state.busy ? 'Requesting…' : 'Request access'}</button></div>
    <${ErrorBox} error=${state.error} title="The request was not sent" />
  </form>`;
}

function Decision({ request, onDecided }) {
  const [note, setNote] = useState('');
  const [state, setState] = useState({ busy: false, error: null });
  const decide = async (approve) => {
    setState({ busy: true, error: null });
    try {
      await post(`/api/v1/access-requests/${seg(request.id)}/${approve ? 'approve' : 'deny'}`, { note });
      setState({ busy: false, error: null });
      onDecided();
    } catch (error) {
      setState({ busy: false, error });
    }
  };
  const id = `note-${request.id}`;
  return html`<div class="decision">
    <label for=${id}>Note to ${request.requester} (optional)</label>
    <input id=${id} value=${note} onInput=${(e) => setNote(e.currentTarget.value)} />
    <div class="actions">
      <button type="button" class="primary" disabled=${state.busy} onClick=${() => decide(true)}>Approve</button>
      <button type="button" disabled=${state.busy} onClick=${() => decide(false)}>Deny</button>
    </div>
    <${ErrorBox} error=${state.error} title="The decision failed" />
  </div>`;
}

export function AccessPage({ session }) {
  const list = useAsync((signal) => get('/api/v1/access-requests', { signal }), []);
  if (list.loading && !list.data) return html`<${Loading} what="access requests" />`;
  if (list.error) return html`<${ErrorBox} error=${list.error} title="Cannot list access requests" />`;
  const requests = list.data.requests || [];
  const toDecide = requests.filter((r) => r.can_decide && r.state === 'pending');
  const mine = requests.filter((r) => r.requester === session.principal);
  const others = requests.filter((r) => r.can_decide && r.state !== 'pending' && r.requester !== session.principal);
  const row = (r, decide) => html`<li class="card access" data-request=${r.id} data-state=${r.state}>
    <h3><a href=${`#/product/${r.product.split('.').map(seg).join('/')}`}>${r.product}</a>${' '}<${Badge} kind=${r.state === 'approved' ? 'ok' : r.state === 'denied' ? 'denied' : 'masked'}>${r.state}<//></h3>
    <p><strong>${r.requester}</strong> asked ${formatTime(r.created_at_ms)} for <code>${r.tables.join(', ')}</code></p>
    <blockquote>${r.reason}</blockquote>
    ${r.state !== 'pending' ? html`<p class="muted">${r.state} by ${r.decided_by} ${formatTime(r.decided_at_ms)}${r.note ? html`: “${r.note}”` : ''}</p>` : null}
    ${decide ? html`<${Decision} request=${r} onDecided=${list.reload} />` : null}
  </li>`;
  return html`<div class="access-page">
    <h1>Access requests</h1>
    <section aria-labelledby="to-decide"><h2 id="to-decide">To decide</h2>
      ${toDecide.length ? html`<ul class="hits">${toDecide.map((r) => row(r, true))}</ul>` : html`<p class="muted">Nothing waits for your decision.</p>`}</section>
    <section aria-labelledby="mine"><h2 id="mine">Yours</h2>
      ${mine.length ? html`<ul class="hits">${mine.map((r) => row(r, false))}</ul>` : html`<p class="muted">You have requested nothing yet. Request access from a product's page.</p>`}</section>
    ${others.length ? html`<section aria-labelledby="decided"><h2 id="decided">Decided</h2><ul class="hits">${others.map((r) => row(r, false))}</ul></section>` : null}
  </div>`;
}
