// The portal's shell: session, navigation, and the page for the current #/route.
import { h, render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { html, ErrorBox } from './ui.js';
import { api, ApiError, setCsrfToken, whenSessionEnds } from './api.js';

// Pages load on first use: the login needs only this module, ui.js and api.js.
const PAGES = {
  search: () => import('./search.js').then((m) => m.SearchPage),
  product: () => import('./product.js').then((m) => m.ProductPage),
  sql: () => import('./sql.js').then((m) => m.SqlPage),
  domain: () => import('./domain.js').then((m) => m.DomainPage),
  access: () => import('./access.js').then((m) => m.AccessPage),
  new: () => import('./wizard.js').then((m) => m.WizardPage),
  governance: () => import('./governance.js').then((m) => m.GovernancePage),
};
const loaded = {};

function Page({ name, props }) {
  const [component, setComponent] = useState(() => loaded[name]);
  const [error, setError] = useState(null);
  useEffect(() => {
    if (loaded[name]) { setComponent(() => loaded[name]); return; }
    let live = true;
    PAGES[name]().then((c) => { loaded[name] = c; if (live) setComponent(() => c); },
      (e) => { if (live) setError(new ApiError(0, `Cannot load the page's code (${e.message}). Reload the page.`)); });
    return () => { live = false; };
  }, [name]);
  if (error) return html`<${ErrorBox} error=${error} />`;
  if (!component) return html`<p class="loading" role="status">Loading…</p>`;
  return h(component, props);
}

function parseRoute() {
  const hash = window.location.hash.replace(/^#/, '') || '/search';
  const [path, query] = hash.split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  return { page: parts[0] || 'search', parts: parts.slice(1), params: new URLSearchParams(query || '') };
}

function Login({ onLogin, notice }) {
  const [clientId, setClientId] = useState('');
  const [secret, setSecret] = useState('');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  // The form is on screen and answers input: what the browser test measures as interactive.
  useEffect(() => { if (!performance.getEntriesByName('portal-interactive').length) performance.mark('portal-interactive'); }, []);
  const submit = async (event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const session = await api('POST', '/api/v1/session', { client_id: clientId.trim(), client_secret: secret });
      setSecret('');
      onLogin(session);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return html`<main class="login" id="main">
    <form class="card login-card" onSubmit=${submit} aria-labelledby="login-title">
      <h1 id="login-title"><img src="/assets/logo.svg" alt="" width="28" height="28" /> meshwork</h1>
      <p class="muted">Log in with your principal's credentials (client id and secret).</p>
      ${notice ? html`<p class="notice" role="status">${notice}</p>` : null}
      <label for="client-id">Client id</label>
      <input id="client-id" name="client_id" autocomplete="username" required value=${clientId}
        onInput=${(e) => setClientId(e.currentTarget.value)} autofocus />
      <label for="client-secret">Client secret</label>
      <input id="client-secret" name="client_secret" type="password" autocomplete="current-password" required
        value=${secret} onInput=${(e) => setSecret(e.currentTarget.value)} />
      <button type="submit" class="primary" disabled=${busy}>${busy ? 'Logging in…' : 'Log in'}</button>
      <${ErrorBox} error=${error} title="Login failed" />
    </form>
  </main>`;
}

function Nav({ session, route, onLogout }) {
  const link = (page, label) => html`<a href=${`#/${page}`} aria-current=${route.page === page ? 'page' : undefined}>${label}</a>`;
  return html`<header class="topbar">
    <a class="brand" href="#/search"><img src="/assets/logo.svg" alt="" width="24" height="24" /><span>meshwork</span></a>
    <nav aria-label="Main">${link('search', 'Catalog')}${link('sql', 'SQL workbench')}${link('access', 'Access requests')}${link('new', 'New product')}${session.is_root || (session.roles || []).includes('governance_council') ? link('governance', 'Governance') : null}</nav>
    <div class="who">
      <span class="principal" title=${(session.roles || []).join(', ')}>${session.principal}</span>
      <button type="button" onClick=${onLogout}>Log out</button>
    </div>
  </header>`;
}

function App() {
  const [session, setSession] = useState(undefined);  // undefined: checking, null: logged out
  const [notice, setNotice] = useState('');
  const [route, setRoute] = useState(parseRoute());
  const [bootError, setBootError] = useState(null);

  useEffect(() => {
    const onHash = () => setRoute(parseRoute());
    window.addEventListener('hashchange', onHash);
    whenSessionEnds((message) => {
      setCsrfToken('');
      setSession(null);
      setNotice(`Your session ended (${message}). Log in again to continue.`);
    });
    api('GET', '/api/v1/session').then(
      (s) => { setCsrfToken(s.csrf_token); setSession(s); },
      (e) => { if (e instanceof ApiError && e.status === 401) setSession(null); else setBootError(e); });
    return () => window.removeEventListener('hashchange', onHash);
  }, []);

  useEffect(() => {
    const titles = { search: 'Catalog', product: 'Product', sql: 'SQL workbench', domain: 'Domain', access: 'Access requests', new: 'New data product', governance: 'Governance' };
    document.title = `${titles[route.page] || 'meshwork'}${route.parts.length ? ' · ' + route.parts.join('.') : ''} · meshwork`;
  }, [route]);

  if (bootError) return html`<main class="page" id="main"><${ErrorBox} error=${bootError} title="The portal cannot start" /></main>`;
  if (session === undefined) return html`<p class="boot" role="status">Checking your session…</p>`;
  if (session === null) {
    return html`<${Login} notice=${notice} onLogin=${(s) => { setCsrfToken(s.csrf_token); setNotice(''); setSession(s); }} />`;
  }
  const logout = async () => {
    try { await api('DELETE', '/api/v1/session'); } catch { /* the cookie is gone either way */ }
    setCsrfToken('');
    setSession(null);
    setNotice('You are logged out.');
  };
  let page;
  if (route.page === 'product' && route.parts.length >= 2) {
    page = html`<${Page} key=${'product/' + route.parts.join('.')} name="product" props=${{ domain: route.parts[0], name: route.parts[1] }} />`;
  } else if (route.page === 'sql') {
    page = html`<${Page} key="sql" name="sql" props=${{ initialSql: route.params.get('q') || '', autorun: route.params.get('run') === '1' }} />`;
  } else if (route.page === 'governance') {
    page = html`<${Page} key="governance" name="governance" props=${{}} />`;
  } else if (route.page === 'new') {
    page = html`<${Page} key="new" name="new" props=${{}} />`;
  } else if (route.page === 'access') {
    page = html`<${Page} key="access" name="access" props=${{ session }} />`;
  } else if (route.page === 'domain' && route.parts.length >= 1) {
    page = html`<${Page} key=${'domain/' + route.parts[0]} name="domain" props=${{ domain: route.parts[0] }} />`;
  } else {
    page = html`<${Page} key="search" name="search" props=${{ params: route.params }} />`;
  }
  return html`<a class="skip" href="#main" onClick=${(e) => { e.preventDefault(); document.getElementById('main')?.focus(); }}>Skip to content</a>
    <${Nav} session=${session} route=${route} onLogout=${logout} />
    <main class="page" id="main" tabindex="-1">${page}</main>`;
}

render(html`<${App} />`, document.getElementById('app'));
