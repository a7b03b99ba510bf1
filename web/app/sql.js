// The SQL workbench: an editor with highlighting and completion (keywords, domain.port names,
// columns), results with their types, CSV download, EXPLAIN, cancel, and a local history.
import { useEffect, useRef, useState } from 'preact/hooks';
import { html, ErrorBox, Loading, ResultGrid, toCsv, downloadText, useAsync } from './ui.js';
import { get, post, seg } from './api.js';

const KEYWORDS = ['SELECT', 'FROM', 'WHERE', 'GROUP', 'BY', 'ORDER', 'HAVING', 'LIMIT', 'JOIN', 'LEFT', 'RIGHT',
  'FULL', 'INNER', 'OUTER', 'ON', 'USING', 'AS', 'AND', 'OR', 'NOT', 'IN', 'IS', 'NULL', 'DISTINCT', 'COUNT',
  'SUM', 'AVG', 'MIN', 'MAX', 'CASE', 'WHEN', 'THEN', 'ELSE', 'END', 'WITH', 'UNION', 'ALL', 'DESC', 'ASC',
  'BETWEEN', 'LIKE', 'ILIKE', 'EXPLAIN', 'FILTER', 'OVER', 'PARTITION', 'DATE', 'TIMESTAMP', 'INTERVAL',
  'CAST', 'TRUE', 'FALSE', 'date_trunc', 'strftime', 'round', 'coalesce'];
const KEYWORD_SET = new Set(KEYWORDS.map((k) => k.toUpperCase()));
const HISTORY_KEY = 'meshwork.sql-history';

/// Splits SQL into [kind, text] tokens for highlighting; every character lands in one token.
export function tokenize(sql) {
  const tokens = [];
  const pattern = /(--[^\n]*|\/\*[\s\S]*?(?:\*\/|$))|('(?:[^']|'')*'?)|("(?:[^"]|"")*"?)|(\b\d+(?:\.\d+)?\b)|([A-Za-z_][A-Za-z0-9_]*)|(\s+)|(.)/g;
  let match;
  while ((match = pattern.exec(sql)) !== null) {
    const [text, comment, string, quoted, number, word] = match;
    let kind = 'plain';
    if (comment) kind = 'comment';
    else if (string) kind = 'string';
    else if (quoted) kind = 'ident';
    else if (number) kind = 'number';
    else if (word && KEYWORD_SET.has(word.toUpperCase())) kind = 'keyword';
    tokens.push([kind, text]);
  }
  return tokens;
}

function readHistory() {
  try { return JSON.parse(localStorage.getItem(HISTORY_KEY) || '[]'); } catch { return []; }
}

function Editor({ value, onChange, onRun, names }) {
  const area = useRef(null);
  const mirror = useRef(null);
  const [suggest, setSuggest] = useState({ open: false, items: [], index: 0, from: 0 });
  const wordBefore = (text, caret) => {
    const m = /[A-Za-z0-9_.]*$/.exec(text.slice(0, caret));
    return { word: m[0], from: caret - m[0].length };
  };
  const openSuggestions = (text, caret, explicit) => {
    const { word, from } = wordBefore(text, caret);
    if (!explicit && word.length < 2) return setSuggest((s) => ({ ...s, open: false }));
    const lower = word.toLowerCase();
    const items = [...names, ...KEYWORDS].filter((n) => n.toLowerCase().startsWith(lower) && n.toLowerCase() !== lower).slice(0, 8);
    setSuggest({ open: items.length > 0, items, index: 0, from });
  };
  const accept = (item) => {
    const el = area.current;
    const caret = el.selectionStart;
    const next = value.slice(0, suggest.from) + item + value.slice(caret);
    onChange(next);
    setSuggest({ open: false, items: [], index: 0, from: 0 });
    requestAnimationFrame(() => { el.focus(); el.selectionStart = el.selectionEnd = suggest.from + item.length; });
  };
  const onKeyDown = (event) => {
    if ((event.ctrlKey || event.metaKey) && event.key === 'Enter') { event.preventDefault(); onRun(); return; }
    if (event.ctrlKey && event.key === ' ') { event.preventDefault(); openSuggestions(value, event.currentTarget.selectionStart, true); return; }
    if (!suggest.open) return;
    if (event.key === 'ArrowDown') { event.preventDefault(); setSuggest({ ...suggest, index: (suggest.index + 1) % suggest.items.length }); }
    else if (event.key === 'ArrowUp') { event.preventDefault(); setSuggest({ ...suggest, index: (suggest.index + suggest.items.length - 1) % suggest.items.length }); }
    else if (event.key === 'Tab' || event.key === 'Enter') { event.preventDefault(); accept(suggest.items[suggest.index]); }
    else if (event.key === 'Escape') { event.preventDefault(); setSuggest({ ...suggest, open: false }); }
  };
  const sync = () => { if (mirror.current && area.current) { mirror.current.scrollTop = area.current.scrollTop; mirror.current.scrollLeft = area.current.scrollLeft; } };
  useEffect(sync, [value]);
  return html`<div class="editor">
    <pre class="editor-mirror sql" ref=${mirror} aria-hidden="true">${tokenize(value).map(([kind, text]) => kind === 'plain' ? text : html`<span class=${`tok-${kind}`}>${text}</span>`)}${'\n'}</pre>
    <textarea ref=${area} id="sql-editor" class="editor-input" spellcheck="false" autocomplete="off" value=${value}
      aria-label="SQL" aria-describedby="editor-help" aria-autocomplete="list" aria-controls="sql-suggestions"
      aria-expanded=${suggest.open ? 'true' : 'false'}
      onInput=${(e) => { onChange(e.currentTarget.value); openSuggestions(e.currentTarget.value, e.currentTarget.selectionStart, false); }}
      onKeyDown=${onKeyDown} onScroll=${sync} onBlur=${() => setTimeout(() => setSuggest((s) => ({ ...s, open: false })), 150)}></textarea>
    ${suggest.open ? html`<ul class="suggestions" id="sql-suggestions" role="listbox" aria-label="Completions">
      ${suggest.items.map((item, i) => html`<li role="option" aria-selected=${i === suggest.index ? 'true' : 'false'}
        onMouseDown=${(e) => { e.preventDefault(); accept(item); }}>${item}</li>`)}</ul>` : null}
    <p id="editor-help" class="muted">Ctrl+Enter runs · Ctrl+Space completes · tables are <code>domain.port</code></p>
  </div>`;
}

export function SqlPage({ initialSql, autorun }) {
  const [sql, setSql] = useState(initialSql || 'SELECT * FROM mesh.catalog.products LIMIT 10');
  const [state, setState] = useState({ running: false, result: null, error: null, id: null });
  const [history, setHistory] = useState(readHistory());
  const controller = useRef(null);
  const products = useAsync((signal) => get('/api/v1/products', { signal }), []);
  const names = [];
  for (const p of (products.data && products.data.products) || []) {
    for (const port of p.ports || []) if (port.table) names.push(port.table);
  }

  const run = async (text) => {
    const statement = (text === undefined ? sql : text).trim();
    if (!statement || state.running) return;
    const id = crypto.randomUUID();
    controller.current = new AbortController();
    setState({ running: true, result: null, error: null, id });
    const entry = { sql: statement, at: Date.now() };
    const next = [entry, ...readHistory().filter((h) => h.sql !== statement)].slice(0, 25);
    localStorage.setItem(HISTORY_KEY, JSON.stringify(next));
    setHistory(next);
    try {
      const result = await post('/api/v1/query', { sql: statement, 'max-rows': 10000, 'query-id': id }, { signal: controller.current.signal });
      setState({ running: false, result, error: null, id: null });
    } catch (error) {
      // A cancelled query answers with the server's own words ("canceling statement due to user
      // request"), shown like any other error.
      setState({ running: false, result: null, error, id: null });
    }
  };
  // Asks the server to stop the query; its answer to the query then says it was cancelled. A
  // query not registered yet (its request still on the way) is asked again a few times.
  const cancel = async () => {
    const id = state.id;
    if (!id) return;
    setState((s) => ({ ...s, cancelling: true }));
    for (let attempt = 0; ; attempt += 1) {
      try {
        await post(`/api/v1/query/${seg(id)}/cancel`);
        return;
      } catch (error) {
        if (error.status !== 404 || attempt >= 4) {
          // Finished meanwhile, or refused: say so unless the query's own answer came.
          setState((s) => (s.id === id ? { ...s, cancelling: false, cancelError: error } : s));
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  };
  useEffect(() => { if (autorun && initialSql) run(initialSql); }, []);
  const explain = () => run(/^\s*explain\b/i.test(sql) ? sql : `EXPLAIN ${sql}`);
  const result = state.result;
  return html`<div class="sql-page">
    <h1>SQL workbench</h1>
    <div class="sql-layout">
      <div class="sql-main">
        <${Editor} value=${sql} onChange=${setSql} onRun=${() => run()} names=${names} />
        <div class="actions" role="toolbar" aria-label="Query">
          <button type="button" class="primary" onClick=${() => run()} disabled=${state.running}>Run</button>
          <button type="button" onClick=${explain} disabled=${state.running}>EXPLAIN</button>
          <button type="button" onClick=${cancel} disabled=${!state.running || state.cancelling}>${state.cancelling ? 'Cancelling…' : 'Cancel'}</button>
          <button type="button" onClick=${() => downloadText('result.csv', toCsv(result), 'text/csv')} disabled=${!result || !result.columns}>Download CSV</button>
        </div>
        ${state.running ? html`<${Loading} what="the result" />` : null}
        <${ErrorBox} error=${state.cancelError} title="Cannot cancel the query" />
        <${ErrorBox} error=${state.error} title=${state.error && state.error.details && state.error.details.sqlstate === '57014' ? 'The query was cancelled' : 'The query failed'} />
        ${result && result.explain ? html`<pre class="explain">${result.explain}</pre>` : html`<${ResultGrid} result=${result} />`}
      </div>
      <aside class="sql-side">
        <section class="card">
          <h2>Tables</h2>
          ${products.loading ? html`<${Loading} what="tables" />` : html`<ul class="table-list">${names.map((n) => html`<li><button type="button" class="link" onClick=${() => setSql(`SELECT * FROM ${n} LIMIT 100`)}>${n}</button></li>`)}</ul>`}
        </section>
        <section class="card">
          <h2>History</h2>
          ${history.length ? html`<ol class="history">${history.map((h) => html`<li><button type="button" class="link" title=${h.sql} onClick=${() => setSql(h.sql)}>${h.sql.slice(0, 80)}</button></li>`)}</ol>` : html`<p class="muted">Queries you run appear here.</p>`}
        </section>
      </aside>
    </div>
  </div>`;
}
