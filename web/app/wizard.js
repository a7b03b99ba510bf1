// New data product wizard: basics, inputs and transform, columns, then review. It writes the
// dataproduct.yaml a developer would, and sends it through the same pipeline as
// `meshwork product deploy` (POST /api/v1/products/deploy): validate, plan, deploy, each step
// shown live as the server streams it.
import { useState } from 'preact/hooks';
import { html, ErrorBox, Loading, Badge, useAsync, navigate } from './ui.js';
import { get, postStream, seg, ApiError } from './api.js';

const TYPES = ['string', 'long', 'int', 'double', 'decimal(38,2)', 'boolean', 'date', 'timestamp', 'uuid'];
const CLASSIFICATIONS = ['', 'public', 'internal', 'confidential', 'pii.name', 'pii.email', 'pii.credit_card'];
const q = (text) => JSON.stringify(String(text));  // a JSON string is a valid YAML scalar

// `sqlFile`: the transform as transform.sql beside the spec (the scaffold for git) instead of
// inline.
export function toYaml(form, { sqlFile = false } = {}) {
  const lines = [
    'apiVersion: meshwork/v1', 'kind: DataProduct',
    `domain: ${q(form.domain)}`, `name: ${q(form.name)}`, `version: ${q(form.version)}`,
    `title: ${q(form.title)}`, `description: ${q(form.description)}`,
    `owner: {team: ${q(form.team)}, email: ${q(form.email)}}`,
    `tags: [${form.tags.split(',').map((t) => t.trim()).filter(Boolean).map(q).join(', ')}]`,
  ];
  const inputs = form.inputs.filter(Boolean);
  if (inputs.length) {
    lines.push('inputs:');
    for (const port of inputs) lines.push(`  - {name: ${q(port.split('.')[1])}, port: ${q(port)}}`);
  }
  lines.push('transform:', sqlFile ? '  sql_file: transform.sql' : `  sql: ${q(form.sql)}`, 'ports:', `  - name: ${q(form.name)}`,
    `    description: ${q(form.portDescription || form.title)}`, '    columns:');
  for (const c of form.columns) {
    const parts = [`name: ${q(c.name)}`, `type: ${q(c.type)}`, `description: ${q(c.description)}`];
    if (c.classification) parts.push(`classification: ${q(c.classification)}`);
    lines.push(`      - {${parts.join(', ')}}`);
  }
  return lines.join('\n') + '\n';
}

function base64url(text) {
  const bytes = new TextEncoder().encode(text);
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

// A stage's steps as they stream in: each is listed when it starts (running) and gets its outcome
// when it ends; steps nest (publish runs quality and governance on the staged data).
export function applyStep(steps, step) {
  const list = steps.slice();
  let at = -1;
  for (let i = list.length - 1; i >= 0; i -= 1) if (list[i].step === step.step && list[i].outcome === 'running') { at = i; break; }
  if (at < 0) list.push(step);
  else list[at] = step.outcome === 'running' ? { ...list[at], detail: step.detail || list[at].detail } : step;
  return list;
}

function Steps({ stage }) {
  if (!stage) return null;
  const report = stage.report || {};
  const kind = (outcome) => (outcome === 'ok' || outcome === 'passed' ? 'ok' : outcome === 'failed' ? 'denied' : outcome === 'warn' ? 'masked' : '');
  return html`<ol class="steps">${(stage.steps || []).map((s) => html`<li class=${`step step-${s.outcome}`} data-step=${s.step} data-outcome=${s.outcome}>
    ${s.outcome === 'running' ? html`<span class="spinner" aria-hidden="true"></span>` : html`<${Badge} kind=${kind(s.outcome)}>${s.outcome}<//>`}
    <strong class="step-name">${s.step}</strong>
    <span class="step-detail muted">${s.outcome === 'running' ? (s.detail || 'running…') : s.detail}</span>
    <span class="step-time muted">${s.outcome === 'running' ? '' : s.seconds < 1 ? `${Math.round(s.seconds * 1000)} ms` : `${s.seconds.toFixed(1)} s`}</span></li>`)}</ol>
    ${(report.governance || []).map((g) => html`<p class=${g.severity === 'block' ? 'error' : 'notice'}>${g.rule}: ${g.where} ${g.message}${g.fix ? ` — ${g.fix}` : ''}</p>`)}`;
}

export function WizardPage() {
  const domains = useAsync((signal) => get('/api/v1/domains', { signal }), []);
  const products = useAsync((signal) => get('/api/v1/products', { signal }), []);
  const [form, setForm] = useState({
    domain: '', name: '', version: '1.0.0', title: '', description: '', team: '', email: '', tags: '',
    inputs: [''], sql: '', portDescription: '',
    columns: [{ name: '', type: 'string', description: '', classification: '' }],
  });
  // running: the stage in progress; stages: mode → {steps, report}; error: the API's, as worded.
  const [stage, setStage] = useState({ running: '', stages: {}, error: null, done: false });
  const [scaffoldError, setScaffoldError] = useState(null);
  const set = (key) => (e) => setForm({ ...form, [key]: e.currentTarget.value });
  const setColumn = (i, key) => (e) => {
    const columns = form.columns.slice();
    columns[i] = { ...columns[i], [key]: e.currentTarget.value };
    setForm({ ...form, columns });
  };
  const ports = [];
  for (const p of (products.data && products.data.products) || []) for (const port of p.ports || []) ports.push(port.table);
  const yaml = toYaml(form);

  // validate → plan → deploy through POST /api/v1/products/deploy, the CLI's pipeline; each
  // stage streams its steps (application/x-ndjson) and they are shown as they happen.
  const run = async () => {
    const files = { 'dataproduct.yaml': base64url(yaml) };
    // The progress is below the long form: bring it into view as the stages start.
    requestAnimationFrame(() => document.getElementById('wizard-progress')?.scrollIntoView({ block: 'start' }));
    let stages = {};
    const show = (running, extra = {}) => setStage({ running, stages, error: null, done: false, ...extra });
    for (const mode of ['validate', 'plan', 'deploy']) {
      stages = { ...stages, [mode]: { steps: [], report: null } };
      show(mode);
      let failure = null;
      try {
        await postStream('/api/v1/products/deploy', { mode, files }, (line) => {
          const current = stages[mode];
          if (line.step) {
            stages = { ...stages, [mode]: { ...current, steps: applyStep(current.steps, line.step) } };
          } else if (line.report) {
            // The report's steps are the truth (the non-streamed answer has only those).
            stages = { ...stages, [mode]: { steps: line.report.steps || current.steps, report: line.report } };
            if (line.status >= 400 && line.report.error) failure = new ApiError(line.status, line.report.error.message, line.report.error);
          } else if (line.error) {
            failure = new ApiError(line.status || 500, line.error.message, line.error);
          }
          show(mode);
        });
      } catch (error) {
        failure = error;
      }
      if (failure) { show('', { error: failure, failed: mode }); return; }
    }
    setStage({ running: '', stages, error: null, done: true });
  };
  if (domains.loading || products.loading) return html`<${Loading} what="domains and products" />`;
  const field = (id, label, input) => html`<div class="field"><label for=${id}>${label}</label>${input}</div>`;
  return html`<div class="wizard">
    <h1>New data product</h1>
    <${ErrorBox} error=${domains.error || products.error} />
    <form class="card wizard-form" onSubmit=${(e) => { e.preventDefault(); run(); }}>
      <fieldset><legend>1. Basics</legend>
        ${field('w-domain', 'Domain', html`<select id="w-domain" required value=${form.domain} onChange=${set('domain')}>
          <option value="">choose…</option>${((domains.data && domains.data.domains) || []).map((d) => html`<option value=${d.name}>${d.name}</option>`)}</select>`)}
        ${field('w-name', 'Name (lower case, digits, _)', html`<input id="w-name" required pattern="[a-z][a-z0-9_]*" value=${form.name} onInput=${set('name')} />`)}
        ${field('w-version', 'Version', html`<input id="w-version" required value=${form.version} onInput=${set('version')} />`)}
        ${field('w-title', 'Title', html`<input id="w-title" required value=${form.title} onInput=${set('title')} />`)}
        ${field('w-description', 'Description', html`<textarea id="w-description" rows="3" required value=${form.description} onInput=${set('description')}></textarea>`)}
        ${field('w-team', 'Owner team', html`<input id="w-team" required value=${form.team} onInput=${set('team')} />`)}
        ${field('w-email', 'Owner e-mail', html`<input id="w-email" type="email" value=${form.email} onInput=${set('email')} />`)}
        ${field('w-tags', 'Tags (comma separated)', html`<input id="w-tags" value=${form.tags} onInput=${set('tags')} />`)}
      </fieldset>
      <fieldset><legend>2. Inputs and transform</legend>
        ${field('w-input', 'Input product port (its name in SQL is the part after the dot)', html`<select id="w-input" value=${form.inputs[0]} onChange=${(e) => setForm({ ...form, inputs: [e.currentTarget.value] })}>
          <option value="">none</option>${ports.map((p) => html`<option value=${p}>${p}</option>`)}</select>`)}
        ${field('w-sql', 'Transform SQL', html`<textarea id="w-sql" class="sql" rows="5" required value=${form.sql} onInput=${set('sql')}
          placeholder="SELECT segment, sum(net_revenue) AS net_revenue FROM q3_revenue GROUP BY 1"></textarea>`)}
      </fieldset>
      <fieldset><legend>3. Columns of the output port</legend>
        <table class="columns-editor"><thead><tr><th scope="col">Name</th><th scope="col">Type</th><th scope="col">Description</th><th scope="col">Classification</th><th scope="col"><span class="sr-only">Remove</span></th></tr></thead>
        <tbody>${form.columns.map((c, i) => html`<tr>
          <td><input aria-label=${`Column ${i + 1} name`} class="w-col-name" required value=${c.name} onInput=${setColumn(i, 'name')} /></td>
          <td><select aria-label=${`Column ${i + 1} type`} class="w-col-type" value=${c.type} onChange=${setColumn(i, 'type')}>${TYPES.map((t) => html`<option>${t}</option>`)}</select></td>
          <td><input aria-label=${`Column ${i + 1} description`} class="w-col-doc" required value=${c.description} onInput=${setColumn(i, 'description')} /></td>
          <td><select aria-label=${`Column ${i + 1} classification`} value=${c.classification} onChange=${setColumn(i, 'classification')}>${CLASSIFICATIONS.map((t) => html`<option value=${t}>${t || 'none'}</option>`)}</select></td>
          <td><button type="button" aria-label=${`Remove column ${i + 1}`} disabled=${form.columns.length === 1} onClick=${() => setForm({ ...form, columns: form.columns.filter((_, j) => j !== i) })}>✕</button></td>
        </tr>`)}</tbody></table>
        <button type="button" onClick=${() => setForm({ ...form, columns: [...form.columns, { name: '', type: 'string', description: '', classification: '' }] })}>Add column</button>
      </fieldset>
      <fieldset><legend>4. Review and deploy</legend>
        <details><summary>dataproduct.yaml</summary><pre class="sql">${yaml}</pre></details>
        <div class="actions"><button type="submit" class="primary" disabled=${!!stage.running}>${stage.running ? `Running ${stage.running}…` : 'Validate, plan and deploy'}</button>
          <button type="button" id="download-scaffold" onClick=${() => downloadScaffold(form, setScaffoldError)}>Download the scaffold (.tar) for git</button></div>
        <${ErrorBox} error=${scaffoldError} title="The scaffold could not be made" />
      </fieldset>
    </form>
    <section class="card progress" id="wizard-progress" aria-label="Progress">
      ${Object.keys(stage.stages).length ? null : html`<p class="muted">Validate, plan and deploy run here step by step, the same pipeline as <code>meshwork product deploy</code>.</p>`}
      <div aria-live="polite">
      ${['validate', 'plan', 'deploy'].map((mode) => stage.stages[mode] ? html`<div class="stage" data-stage=${mode} data-running=${stage.running === mode ? 'true' : 'false'}>
        <h2>${mode}${stage.running === mode ? html` <span class="spinner" aria-hidden="true"></span>` : null}</h2>
        <${Steps} stage=${stage.stages[mode]} /></div>` : null)}
      </div>
      <${ErrorBox} error=${stage.error} title=${`The ${stage.failed || 'pipeline'} stage failed`} />
      ${stage.done ? html`<p class="notice" role="status" data-deployed=${`${form.domain}.${form.name}`}>Published ${form.domain}.${form.name} ${form.version}.${" "}
        <a href=${`#/product/${seg(form.domain)}/${seg(form.name)}`}>Open its page</a></p>` : null}
    </section>
  </div>`;
}
// A POSIX ustar archive of { path: text } (no compression): what `tar xf` unpacks into the
// product folder.
export function tarArchive(files) {
  const encoder = new TextEncoder();
  const blocks = [];
  const field = (block, offset, length, text) => { block.set(encoder.encode(text).subarray(0, length), offset); };
  const octal = (value, length) => value.toString(8).padStart(length - 1, '0') + '\0';
  for (const [path, text] of Object.entries(files)) {
    const data = encoder.encode(text);
    const header = new Uint8Array(512);
    const slash = path.length > 100 ? path.lastIndexOf('/', 155) : -1;
    field(header, 0, 100, slash > 0 ? path.slice(slash + 1) : path);
    field(header, 100, 8, '0000644\0');
    field(header, 108, 8, octal(0, 8));
    field(header, 116, 8, octal(0, 8));
    field(header, 124, 12, octal(data.length, 12));
    field(header, 136, 12, octal(Math.floor(Date.now() / 1000), 12));
    field(header, 148, 8, '        ');  // the checksum counts itself as spaces
    field(header, 156, 1, '0');
    field(header, 257, 8, 'ustar\u000000');
    if (slash > 0) field(header, 345, 155, path.slice(0, slash));
    const sum = header.reduce((total, byte) => total + byte, 0);
    field(header, 148, 8, sum.toString(8).padStart(6, '0') + '\0 ');
    blocks.push(header, data, new Uint8Array((512 - (data.length % 512)) % 512));
  }
  blocks.push(new Uint8Array(1024));
  return new Blob(blocks, { type: 'application/x-tar' });
}

// The wizard's product as a folder for git: its spec (transform in transform.sql), the SQL, and
// the CI workflow of `meshwork product init` (validate on pull requests, deploy on main).
async function downloadScaffold(form, setError) {
  try {
    const scaffold = await get(`/api/v1/scaffold?domain=${encodeURIComponent(form.domain)}&name=${encodeURIComponent(form.name)}`);
    const files = { 'dataproduct.yaml': toYaml(form, { sqlFile: true }), 'transform.sql': `${form.sql.trim()}\n` };
    for (const file of scaffold.files) {
      if (file.path === '.github/workflows/dataproduct.yml') files[file.path] = file.content;
    }
    const link = document.createElement('a');
    link.href = URL.createObjectURL(tarArchive(files));
    link.download = `${form.domain}.${form.name}.tar`;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
    setError(null);
  } catch (error) {
    setError(error);
  }
}

export { navigate };
