// The portal in a real browser (Debian's chromium driven by playwright-core), against
// `meshwork serve` on the demo mesh. Environment: PORTAL_URL, MKT_ID/MKT_SECRET (the marketing
// analyst), ARTIFACTS (screenshots), XSS_PRODUCT (domain.name of a product whose description,
// column docs and rows hold markup), NODE_PATH-free: playwright-core is resolved from tests/e2e.
import { createRequire } from 'node:module';
import { mkdtempSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const require = createRequire(join(process.env.E2E_DIR, 'package.json'));
const { chromium } = require('playwright-core');

const base = process.env.PORTAL_URL.replace(/\/$/, '');
const artifacts = process.env.ARTIFACTS;
mkdirSync(artifacts, { recursive: true });
for (const old of readdirSync(artifacts)) if (old.startsWith('portal-')) rmSync(join(artifacts, old));
const [xssDomain, xssName] = process.env.XSS_PRODUCT.split('.');
const results = [];
const ok = (what) => { results.push(what); console.log(`ok   ${what}`); };
const fail = (what) => { throw new Error(what); };
const expect = (condition, what) => { if (!condition) fail(what); };

const profile = mkdtempSync(join(tmpdir(), 'meshwork-portal-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--no-first-run', '--disable-sync', '--disable-dev-shm-usage'],
  viewport: { width: 1360, height: 900 },
});
const page = context.pages()[0] || await context.newPage();
const pageErrors = [];
page.on('pageerror', (error) => pageErrors.push(String(error)));
page.on('console', (message) => {
  // The browser logs every 401/403 the test provokes; those are expected answers, not page errors.
  if (message.type() === 'error' && !/Failed to load resource/.test(message.text())) pageErrors.push(message.text());
});
let dialogs = 0;
page.on('dialog', (dialog) => { dialogs += 1; dialog.dismiss(); });
// Nothing may leave for another host: the portal works offline.
const foreign = [];
await context.route('**/*', (route) => {
  const url = new URL(route.request().url());
  if (url.origin !== base) { foreign.push(url.href); return route.abort(); }
  return route.continue();
});
// Every form control of the page has an accessible name: a <label for>, aria-label or
// aria-labelledby (placeholders do not count).
const unlabelled = () => page.evaluate(() => [...document.querySelectorAll('input, select, textarea')]
  .filter((el) => el.type !== 'hidden' && !(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby'))
  .map((el) => el.id || el.name || el.className || el.outerHTML.slice(0, 60)));
const expectLabelled = async (where) => {
  const missing = await unlabelled();
  expect(missing.length === 0, `${where}: form controls without a label: ${missing.join(', ')}`);
  return page.evaluate(() => document.querySelectorAll('input, select, textarea').length);
};
// The focused element shows a visible focus ring (:focus-visible outline).
const focusRing = () => page.evaluate(() => {
  const el = document.activeElement;
  const style = el && getComputedStyle(el);
  return el && el !== document.body ? { what: el.id || el.tagName + ':' + (el.textContent || '').trim().slice(0, 30), outline: style.outlineStyle, width: parseFloat(style.outlineWidth) } : null;
});
const shot = (name) => page.screenshot({ path: join(artifacts, `portal-${name}.png`), fullPage: true });

try {
  // 1. First load: the login page, its size and time to interactive.
  // The browser's own start (renderer process for the origin) is not the page's: warm it up on
  // /healthz, which loads none of the portal's files, so the first load below is still cold.
  await page.goto(`${base}/healthz`);
  const started = Date.now();
  await page.goto(`${base}/`);
  await page.locator('#client-id').waitFor({ state: 'visible' });
  const wallMs = Date.now() - started;
  // From the navigation's start to the login form rendered with its handlers (a mark the page sets).
  await page.waitForFunction(() => performance.getEntriesByName('portal-interactive').length > 0);
  const interactiveMs = Math.round(await page.evaluate(() => performance.getEntriesByName('portal-interactive')[0].startTime));
  const bytes = await page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    return performance.getEntriesByType('resource').reduce((sum, r) => sum + r.transferSize, nav.transferSize);
  });
  const decoded = await page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    return performance.getEntriesByType('resource').reduce((sum, r) => sum + r.decodedBodySize, nav.decodedBodySize);
  });
  console.log(`figure first load (cold browser): ${bytes} bytes transferred (${decoded} decoded), interactive ${interactiveMs} ms after navigation start (${wallMs} ms including the browser's first navigation)`);
  expect(bytes < 500 * 1024, `first load is ${bytes} bytes, over 500 KB`);
  expect(interactiveMs < 1000, `the login form took ${interactiveMs} ms, over 1 s`);
  const headers = (await page.request.get(`${base}/`)).headers();
  expect(/default-src 'self'/.test(headers['content-security-policy'] || ''), 'no CSP on the page');
  expect(/frame-ancestors 'none'/.test(headers['content-security-policy']), 'the page may be framed');
  expect(headers['x-content-type-options'] === 'nosniff', 'no nosniff');
  await shot('login');
  ok(`login page: ${bytes} bytes, interactive in ${interactiveMs} ms, CSP default-src 'self', frame-ancestors 'none'`);

  // 2. Without a session, every API call is refused.
  for (const path of ['/api/v1/search?q=revenue', `/api/v1/portal/products/finance/q3_revenue`, '/api/v1/products', '/api/v1/session']) {
    const response = await page.request.get(`${base}${path}`);
    expect(response.status() === 401, `GET ${path} without a session gave ${response.status()}`);
  }
  const anonymousQuery = await page.request.post(`${base}/api/v1/query`, { data: { sql: 'SELECT 1' } });
  expect(anonymousQuery.status() === 401, `POST /api/v1/query without a session gave ${anonymousQuery.status()}`);
  ok('without a session: the API answers 401');

  // A wrong secret is worded, not a blank page.
  await page.fill('#client-id', process.env.MKT_ID);
  await page.fill('#client-secret', 'wrong-secret');
  await page.click('button[type=submit]');
  await page.locator('.error').waitFor();
  ok(`wrong secret: "${(await page.locator('.error p').first().textContent()).trim()}"`);

  // 3. Log in as the marketing analyst, by keyboard: the fields are labelled, Tab moves between
  // them with a visible focus ring, Enter submits.
  const loginControls = await expectLabelled('login page');
  await page.focus('#client-id');
  await page.keyboard.press('Tab');
  const ring = await focusRing();
  expect(ring && ring.what === 'client-secret' && ring.outline !== 'none' && ring.width >= 2, `Tab from the client id: focus ${JSON.stringify(ring)}`);
  await page.fill('#client-secret', process.env.MKT_SECRET);
  await page.press('#client-secret', 'Enter');
  await page.locator('#search-input').waitFor();
  ok(`login by keyboard: ${loginControls} labelled fields, Tab shows a ${ring.width}px focus ring, Enter submits`);
  const cookies = await context.cookies(base);
  const session = cookies.find((c) => c.name === 'mw_session');
  expect(session && session.httpOnly && session.sameSite === 'Strict', `session cookie flags: ${JSON.stringify(session)}`);
  expect(!(await page.evaluate(() => document.cookie)).includes('mw_session'), 'page scripts can read the session cookie');
  ok('logged in as mkt_analyst: mw_session is HttpOnly, SameSite=Strict, invisible to scripts');

  // 4. CSRF: a cookie call that changes state needs the token, and the page's origin.
  const cookieHeader = { Cookie: `mw_session=${session.value}`, 'Content-Type': 'application/json' };
  const noCsrf = await fetch(`${base}/api/v1/query`, { method: 'POST', headers: cookieHeader, body: '{"sql":"SELECT 1"}' });
  expect(noCsrf.status === 403, `POST with the cookie and no CSRF token gave ${noCsrf.status}`);
  const { csrf_token: csrf } = await (await fetch(`${base}/api/v1/session`, { headers: cookieHeader })).json();
  const wrongCsrf = await fetch(`${base}/api/v1/query`, { method: 'POST', headers: { ...cookieHeader, 'X-CSRF-Token': csrf.slice(0, -2) + 'xx' }, body: '{"sql":"SELECT 1"}' });
  expect(wrongCsrf.status === 403, `a wrong CSRF token gave ${wrongCsrf.status}`);
  const foreignOrigin = await fetch(`${base}/api/v1/query`, { method: 'POST', headers: { ...cookieHeader, 'X-CSRF-Token': csrf, Origin: 'https://evil.example' }, body: '{"sql":"SELECT 1"}' });
  expect(foreignOrigin.status === 403, `another site's Origin gave ${foreignOrigin.status}`);
  const withCsrf = await fetch(`${base}/api/v1/query`, { method: 'POST', headers: { ...cookieHeader, 'X-CSRF-Token': csrf }, body: '{"sql":"SELECT 1"}' });
  expect(withCsrf.status === 200, `with the CSRF token: ${withCsrf.status} ${await withCsrf.text()}`);
  ok('CSRF: no token 403, wrong token 403, foreign Origin 403, right token 200');

  // 5. Search "revenue" as you type.
  await shot('catalog');
  const searchControls = await expectLabelled('catalog page');
  // The first Tab from the top of the page reaches the skip link, which moves focus to the content.
  await page.evaluate(() => document.activeElement && document.activeElement.blur());
  await page.keyboard.press('Tab');
  const skip = await focusRing();
  expect(skip && /Skip to content/.test(skip.what) && skip.outline !== 'none', `first Tab: ${JSON.stringify(skip)}`);
  await page.keyboard.press('Enter');
  expect(await page.evaluate(() => document.activeElement && document.activeElement.id === 'main'), 'the skip link did not move focus to the content');
  ok(`catalog page: ${searchControls} labelled controls; the first Tab reaches "Skip to content", Enter moves focus to the content`);
  await page.locator('#search-input').focus();
  const typed = Date.now();
  await page.locator('#search-input').pressSequentially('revenue', { delay: 30 });
  const hit = page.locator('[data-product="finance.q3_revenue"]');
  await hit.waitFor();
  const searchMs = Date.now() - typed - 7 * 30;
  const serverMs = await page.evaluate(async () => {
    const runs = [];
    for (let i = 0; i < 5; i += 1) {
      const t = performance.now();
      await fetch('/api/v1/search?q=revenue', { credentials: 'same-origin' });
      runs.push(performance.now() - t);
    }
    return Math.round(Math.min(...runs) * 10) / 10;
  });
  console.log(`figure search "revenue": results shown ${searchMs} ms after the last key (80 ms debounce), API ${serverMs} ms`);
  expect(serverMs < 100, `search took ${serverMs} ms`);
  const facetCount = await page.locator('.facet').count();
  expect(facetCount >= 3, `only ${facetCount} facets`);
  await shot('search');
  ok(`search "revenue": finance.q3_revenue listed, ${facetCount} facets, API ${serverMs} ms`);
  // A facet narrows the results.
  await page.locator('.facet', { hasText: 'Domain' }).locator('label', { hasText: 'finance' }).click();
  await page.waitForFunction(() => [...document.querySelectorAll('.hit')].every((h) => h.dataset.product.startsWith('finance.')));
  ok('facet domain=finance narrows the results to finance');

  // 6. The product page: data dictionary with what is masked for me.
  await hit.locator('h2 a').click();
  await page.locator('[data-port="q3_revenue"]').waitFor();
  const product = await page.request.get(`${base}/api/v1/portal/products/finance/q3_revenue`);
  const view = await product.json();
  const maskedApi = view.ports[0].columns.filter((c) => c.masked).map((c) => c.name);
  const maskedShown = await page.locator('[data-port="q3_revenue"] tr.is-masked').evaluateAll((rows) => rows.map((r) => r.dataset.column));
  expect(JSON.stringify(maskedApi) === JSON.stringify(maskedShown), `masked columns: API ${maskedApi}, page ${maskedShown}`);
  // How to connect: the PostgreSQL port this server really listens on, the mesh as database.
  const psql = (await page.locator('[data-psql]').textContent()).trim();
  expect(psql.includes(`port=${process.env.PG_PORT}`) && psql.includes('host=127.0.0.1') && psql.includes('dbname=mesh'),
    `the psql line does not name the server's PostgreSQL listener 127.0.0.1:${process.env.PG_PORT}: ${psql}`);
  expect(view.connect.http_base === base && view.connect.pg.port === Number(process.env.PG_PORT), `connect: ${JSON.stringify(view.connect)}`);
  await shot('product');
  ok(`how to connect: ${psql}`);
  ok(`product page finance.q3_revenue: ${view.ports[0].columns.length} columns, masked for me: [${maskedShown.join(', ')}], can read: ${view.ports[0].can_read}`);

  // 7. Run a sample query from the page: without read access the refusal is worded; request
  // access with a reason.
  expect(!view.ports[0].can_read, 'the marketing analyst can already read finance.q3_revenue');
  await page.locator('[data-sample="0"] button.primary').click();
  await page.locator('[data-sample="0"] .error').waitFor();
  const refusal = (await page.locator('[data-sample="0"] .error p').first().textContent()).trim();
  expect(/READ_DATA/.test(refusal), `the refusal does not name the privilege: ${refusal}`);
  ok(`sample query without read access: "${refusal.slice(0, 110)}"`);
  await page.fill('#access-reason', 'Campaign ROI per customer segment for the Q3 review');
  await page.getByRole('button', { name: 'Request access' }).click();
  await page.locator('[data-access-request]').waitFor();
  await shot('product-request');
  ok('access to finance.q3_revenue requested with a reason');
  const mine = (await (await fetch(`${base}/api/v1/access-requests`, { headers: cookieHeader })).json()).requests;
  const request = mine.find((r) => r.product === 'finance.q3_revenue' && r.state === 'pending');
  expect(request && !request.can_decide, `the analyst's own request: ${JSON.stringify(mine)}`);
  const selfApprove = await fetch(`${base}/api/v1/access-requests/${request.id}/approve`, { method: 'POST', headers: { ...cookieHeader, 'X-CSRF-Token': csrf }, body: '{}' });
  expect(selfApprove.status === 403, `the analyst approved their own request: ${selfApprove.status}`);
  const again = await fetch(`${base}/api/v1/access-requests`, { method: 'POST', headers: { ...cookieHeader, 'X-CSRF-Token': csrf }, body: JSON.stringify({ product: 'finance.q3_revenue', reason: 'again' }) });
  expect(again.status === 409, `a second pending request gave ${again.status}`);
  ok('the analyst cannot approve their own request (403) nor ask twice (409)');

  // 7b. Masks for me: the customer master's names and e-mails.
  await page.goto(`${base}/#/product/customers/customers`);
  await page.locator('[data-port="customers"]').waitFor();
  const customerMasks = await page.locator('[data-port="customers"] tr.is-masked').evaluateAll((rows) => rows.map((r) => r.dataset.column));
  expect(customerMasks.length >= 2, `customers.customers shows ${customerMasks.length} masked columns`);
  await page.locator('[data-sample="0"] button.primary').click();
  await page.locator('[data-sample="0"] .grid tbody tr').first().waitFor();
  await shot('product-masked');
  ok(`customers.customers: masked for me [${customerMasks.join(', ')}]; its sample query shows rows`);

  // 8. Stored XSS through a description, a column doc and query results stays text.
  await page.goto(`${base}/#/product/${xssDomain}/${xssName}`);
  await page.locator(`[data-product="${xssDomain}.${xssName}"]`).waitFor();
  await page.locator('[data-sample="0"] button.primary').click();
  await page.locator('[data-sample="0"] .grid tbody tr').first().waitFor();
  await page.waitForTimeout(300);
  const injected = await page.evaluate(() => ({
    flag: window.__xss || null,
    images: document.querySelectorAll('img[src="x"], img[src="/x"]').length,
    scripts: [...document.scripts].filter((s) => !s.src && s.type !== 'importmap').length,
    scriptLinks: document.querySelectorAll('a[href^="javascript:" i]').length,
    description: document.querySelector('.description').textContent,
    doc: document.querySelector('[data-column="body"] td.doc').textContent,
    cell: document.querySelector('[data-sample="0"] .grid tbody td').textContent,
  }));
  expect(!injected.flag && injected.images === 0 && injected.scripts === 0 && injected.scriptLinks === 0 && dialogs === 0, `markup ran: ${JSON.stringify(injected)}`);
  expect(injected.description.includes('<img') && injected.doc.includes('<script') && injected.cell.includes('<img'), `payloads not shown as text: ${JSON.stringify(injected)}`);
  // An encrypted column no mask covers (pii.phone) is marked masked, and SQL redacts it.
  const phone = page.locator('[data-column="sender_phone"]');
  expect(await phone.evaluate((row) => row.classList.contains('is-masked')), 'sender_phone (encrypted, no mask) is not marked masked');
  expect(/encrypted/.test(await phone.textContent()), `sender_phone does not say it is stored encrypted: ${await phone.textContent()}`);
  const phones = await (await fetch(`${base}/api/v1/query`, { method: 'POST', headers: { ...cookieHeader, 'X-CSRF-Token': csrf },
    body: JSON.stringify({ sql: `SELECT DISTINCT sender_phone FROM ${xssDomain}.${xssName}` }) })).json();
  expect(JSON.stringify(phones.rows) === '[["****"]]', `sender_phone through SQL: ${JSON.stringify(phones.rows)}`);
  ok(`encrypted column without a mask: sender_phone marked "${(await phone.locator('td').nth(2).textContent()).trim()}", SQL returns ****`);
  await shot('xss');
  ok('stored XSS in the description, a column doc and a query result is shown as text and never runs');

  // 9. The SQL workbench: run, types in the header, EXPLAIN, CSV.
  await page.goto(`${base}/#/sql`);
  await page.locator('#sql-editor').waitFor();
  await page.fill('#sql-editor', 'SELECT campaign_id, sum(spend) AS spend FROM marketing.campaign_performance GROUP BY 1 ORDER BY 2 DESC');
  await page.keyboard.press('Control+Enter');
  await page.locator('.grid tbody tr').first().waitFor();
  const rows = await page.locator('.grid tbody tr').count();
  const types = await page.locator('.grid thead .col-type').allTextContents();
  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Download CSV' }).click();
  const csvPath = join(artifacts, 'portal-result.csv');
  await (await download).saveAs(csvPath);
  await shot('sql');
  ok(`workbench: ${rows} rows, column types ${types.join(', ')}, CSV downloaded`);
  await page.getByRole('button', { name: 'EXPLAIN' }).click();
  await page.locator('pre.explain').waitFor();
  ok('workbench: EXPLAIN shows the plan');
  // Completion offers domain.port names.
  await page.fill('#sql-editor', 'SELECT * FROM marketing.cam');
  await page.locator('#sql-editor').press('End');
  await page.locator('#sql-editor').press('Control+Space');
  await page.locator('#sql-suggestions li', { hasText: 'marketing.campaign_performance' }).waitFor();
  await page.locator('#sql-editor').press('Enter');
  expect((await page.inputValue('#sql-editor')) === 'SELECT * FROM marketing.campaign_performance', 'completion did not insert the name');
  ok('workbench: Ctrl+Space completes marketing.campaign_performance');

  // 9b. Cancel: a query that would run for minutes is stopped; the page says so in the API's
  // words, and the next query runs (its slot was given back).
  await expectLabelled('SQL workbench');
  await page.fill('#sql-editor', 'SELECT count(*) AS n FROM range(100000000000) t(i) WHERE i % 7 = 3');
  const cancelledResponse = page.waitForResponse((r) => r.request().method() === 'POST' && /\/api\/v1\/query$/.test(new URL(r.url()).pathname), { timeout: 30000 });
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  await page.locator('.sql-main .loading').waitFor();
  const cancelAt = Date.now();
  await page.getByRole('button', { name: 'Cancel' }).click();
  const cancelled = page.locator('.sql-main .error', { hasText: 'The query was cancelled' });
  await cancelled.waitFor({ timeout: 20000 });
  const cancelMs = Date.now() - cancelAt;
  const cancelText = (await cancelled.locator('p').first().textContent()).trim();
  expect(/canceling statement due to user request/.test(cancelText), `the cancelled query says: ${cancelText}`);
  const cancelledStatus = (await cancelledResponse).status();
  expect(cancelledStatus === 409, `a cancelled query answers HTTP ${cancelledStatus}, not 409`);
  expect(await page.locator('.sql-main .grid').count() === 0, 'a cancelled query shows a result grid');
  await shot('sql-cancelled');
  await page.fill('#sql-editor', 'SELECT 42 AS answer');
  await page.keyboard.press('Control+Enter');
  await page.locator('.sql-main .grid tbody tr').first().waitFor();
  expect((await page.locator('.sql-main .grid tbody td').first().textContent()).trim() === '42', 'the query after the cancel did not answer 42');
  console.log(`figure workbench cancel: the error shown ${cancelMs} ms after the click`);
  ok(`workbench cancel: "${cancelText}" ${cancelMs} ms after Cancel; the next query answers 42`);

  // 10. Domain page.
  await page.goto(`${base}/#/domain/finance`);
  await page.locator('.domain .hit').first().waitFor();
  const domainCard = (await page.locator('.domain [data-product="finance.q3_revenue"] .scorecard').textContent()).replace(/\s+/g, ' ').trim();
  expect(/Score \d+\/100/.test(domainCard), `the domain page shows no scorecard: ${domainCard}`);
  await shot('domain');
  ok(`domain page finance lists its products with their scorecards: "${domainCard}"`);

  // 11. Logout: the cookie is cleared and the old token refused.
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.locator('#client-id').waitFor();
  const after = await fetch(`${base}/api/v1/search?q=revenue`, { headers: { Cookie: `mw_session=${session.value}` } });
  expect(after.status === 401, `the logged-out session still works: ${after.status}`);
  ok('logout: back to the login page, the old session token is refused (401)');

  // 12. The finance owner approves the request.
  const login = async (id, secret) => {
    await page.goto(`${base}/`);
    await page.locator('#client-id').waitFor();
    await page.fill('#client-id', id);
    await page.fill('#client-secret', secret);
    await page.click('button[type=submit]');
    await page.locator('#search-input').waitFor();
  };
  await login(process.env.FINN_ID, process.env.FINN_SECRET);
  await page.goto(`${base}/#/access`);
  const pending = page.locator('[data-state="pending"]', { hasText: 'mkt_analyst' });
  await pending.waitFor();
  await shot('access-owner');
  await pending.getByRole('button', { name: 'Approve' }).click();
  await page.locator('[data-state="approved"]', { hasText: 'mkt_analyst' }).waitFor();
  ok('finance owner: the analyst\'s request listed with its reason, approved');

  // 12b. The owner creates a product with the wizard; it is found in search and lineage.
  await page.goto(`${base}/#/new`);
  await page.locator('#w-domain').waitFor();
  await page.selectOption('#w-domain', 'finance');
  await page.fill('#w-name', 'revenue_by_segment');
  await page.fill('#w-title', 'Q3 revenue by customer segment');
  await page.fill('#w-description', 'Net revenue of Q3 2026 per customer segment, from finance.q3_revenue.');
  await page.fill('#w-team', 'finance-analytics');
  await page.fill('#w-email', 'finance-analytics@example.com');
  await page.fill('#w-tags', 'finance, revenue');
  await page.selectOption('#w-input', 'finance.q3_revenue');
  await page.fill('#w-sql', 'SELECT segment, sum(net_revenue) AS net_revenue FROM q3_revenue GROUP BY 1');
  await page.locator('.w-col-name').nth(0).fill('segment');
  await page.locator('.w-col-doc').nth(0).fill('Customer segment');
  await page.getByRole('button', { name: 'Add column' }).click();
  await page.locator('.w-col-name').nth(1).fill('net_revenue');
  await page.locator('.w-col-type').nth(1).selectOption('decimal(38,2)');
  await page.locator('.w-col-doc').nth(1).fill('Net revenue in EUR');
  const wizardControls = await expectLabelled('wizard');
  // Every state the progress shows while the deploy stage runs, as the DOM changes.
  await page.evaluate(() => {
    window.__progress = [];
    const started = performance.now();
    const record = () => {
      const stage = document.querySelector('[data-stage="deploy"]');
      if (!stage) return;
      const state = [...stage.querySelectorAll('.step')].map((s) => `${s.dataset.step}:${s.dataset.outcome}`).join(', ');
      const last = window.__progress[window.__progress.length - 1];
      if (!last || last.state !== state || last.running !== stage.dataset.running) {
        window.__progress.push({ state, running: stage.dataset.running, ms: Math.round(performance.now() - started) });
      }
    };
    new MutationObserver(record).observe(document.querySelector('.progress'), { subtree: true, childList: true, attributes: true, characterData: true });
  });
  const wizardStarted = Date.now();
  // Enter in a field submits the form, like the button.
  await page.press('#w-tags', 'Enter');
  await page.locator('[data-deployed="finance.revenue_by_segment"], .progress .error').first().waitFor({ timeout: 60000 });
  const wizardMs = Date.now() - wizardStarted;
  await shot('wizard');
  const wizardError = (await page.locator('.progress .error').count()) ? await page.locator('.progress .error').first().textContent() : '';
  expect(await page.locator('[data-deployed="finance.revenue_by_segment"]').count() === 1, `the wizard did not publish: ${wizardError}`);
  const progress = await page.evaluate(() => window.__progress);
  const live = progress.filter((p) => p.running === 'true');
  expect(live.length >= 3 && live.some((p) => /:running/.test(p.state)) && live.some((p) => /:ok/.test(p.state)),
    `the deploy's steps were not shown as they ran: ${JSON.stringify(progress)}`);
  const final = progress[progress.length - 1];
  expect(final.running === 'false' && !/:running/.test(final.state), `the deploy ended with steps still running: ${JSON.stringify(final)}`);
  console.log(`figure wizard deploy stage: ${live.length} progress states shown while it ran (first at ${live[0].ms} ms, report at ${final.ms} ms): ${final.state}`);
  ok(`wizard: ${wizardControls} labelled controls, Enter submits; finance.revenue_by_segment validated, planned and deployed in ${wizardMs} ms, the deploy's steps shown live (${live.length} states)`);
  // The scaffold for git: the wizard's spec (transform in transform.sql), the SQL and the CI
  // workflow, as a tar that tar unpacks.
  const [scaffoldDownload] = await Promise.all([page.waitForEvent('download'), page.click('#download-scaffold')]);
  const tarPath = join(profile, scaffoldDownload.suggestedFilename());
  await scaffoldDownload.saveAs(tarPath);
  const listing = spawnSync('tar', ['-tf', tarPath], { encoding: 'utf8' });
  expect(listing.status === 0, `tar -tf the scaffold: ${listing.stderr}`);
  const entries = listing.stdout.trim().split('\n').sort();
  expect(JSON.stringify(entries) === JSON.stringify(['.github/workflows/dataproduct.yml', 'dataproduct.yaml', 'transform.sql']), `scaffold entries: ${entries}`);
  const unpacked = (name) => spawnSync('tar', ['-xOf', tarPath, name], { encoding: 'utf8' }).stdout;
  expect(/sql_file: transform.sql/.test(unpacked('dataproduct.yaml')) && /name: "revenue_by_segment"/.test(unpacked('dataproduct.yaml')), 'the scaffold\'s spec');
  expect(/sum\(net_revenue\)/.test(unpacked('transform.sql')), 'the scaffold\'s transform.sql');
  expect(/meshwork product validate/.test(unpacked('.github/workflows/dataproduct.yml')), 'the scaffold\'s CI workflow');
  ok(`wizard scaffold: ${scaffoldDownload.suggestedFilename()} holds ${entries.join(', ')}`);
  await page.goto(`${base}/#/search?q=revenue_by_segment`);
  await page.locator('[data-product="finance.revenue_by_segment"]').waitFor();
  await page.locator('[data-product="finance.revenue_by_segment"] h2 a').click();
  await page.locator('[data-lineage="finance.revenue_by_segment"] .lineage-lists a', { hasText: 'finance.q3_revenue' }).waitFor();
  await shot('wizard-product');
  ok('the new product is found in search, and its lineage shows finance.q3_revenue upstream');
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.locator('#client-id').waitFor();

  // 13. Back as the analyst: the sample query now returns rows.
  await login(process.env.MKT_ID, process.env.MKT_SECRET);
  await page.goto(`${base}/#/product/finance/q3_revenue`);
  await page.locator('[data-port="q3_revenue"] .badge.ok').waitFor();
  await page.locator('[data-sample="0"] button.primary').click();
  await page.locator('[data-sample="0"] .grid tbody tr').first().waitFor();
  const granted = await page.locator('[data-sample="0"] .grid tbody tr').count();
  await shot('product-granted');
  ok(`analyst after approval: finance.q3_revenue readable, sample query shows ${granted} rows`);

  // 14. Governance: refused to the analyst in words; the council's officer sees policies,
  // scorecards and the audit log (searching it finds the approval).
  await page.goto(`${base}/#/governance`);
  await page.locator('.error').waitFor();
  const governanceRefusal = (await page.locator('.error p').first().textContent()).trim();
  expect(/governance council/.test(governanceRefusal), `governance refusal: ${governanceRefusal}`);
  ok(`governance page refused to the analyst: "${governanceRefusal.slice(0, 100)}"`);
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.locator('#client-id').waitFor();
  await login(process.env.GOV_ID, process.env.GOV_SECRET);
  await page.getByRole('link', { name: 'Governance' }).click();
  await page.locator('[data-policy="personal-data"]').waitFor();
  await page.locator('.scorecards [data-product="finance.q3_revenue"]').waitFor();
  // Policies with their code: the rule's check and the policy's YAML as applied.
  const rowFilterCode = await page.locator('[data-policy="personal-data"] tr', { hasText: 'customers-by-country' }).locator('.rule-check').textContent();
  expect(/principal_attr\('country'\)/.test(rowFilterCode), `row filter code shown: ${rowFilterCode}`);
  const policySource = await page.locator('[data-policy="personal-data"] .policy-source').textContent();
  expect(/kind: Policy/.test(policySource) && /detector: national_id/.test(policySource), 'the policy YAML as applied');
  await page.fill('#audit-search', 'approveAccess');
  await page.waitForFunction(() => {
    const rows = [...document.querySelectorAll('.audit tbody tr')];
    return rows.length > 0 && rows.every((row) => row.textContent.includes('approveAccess'));
  });
  // The access decisions: the analyst's refused sample query (before the approval) is there,
  // with its reason.
  await page.fill('#decision-principal', 'mkt_analyst');
  await page.selectOption('#decision-kind', 'denied');
  await page.waitForFunction(() => {
    const rows = [...document.querySelectorAll('.decisions tbody tr')];
    return rows.length > 0 && rows.every((row) => row.textContent.includes('mkt_analyst') && row.textContent.includes('denied')) &&
      rows.some((row) => row.textContent.includes('READ_DATA') && row.textContent.includes('finance.q3_revenue'));
  });
  await shot('governance');
  ok('governance officer: policies with their code, scorecards, the change search finds the approval, and the access decisions show the analyst\'s refused READ_DATA on finance.q3_revenue');

  expect(foreign.length === 0, `requests to other hosts: ${foreign.join(', ')}`);
  expect(pageErrors.length === 0, `errors in the page: ${pageErrors.join(' | ')}`);
  ok('no request left for another host; no script errors');
} catch (error) {
  await shot('failure').catch(() => {});
  console.error(`FAIL: ${error.message}`);
  if (pageErrors.length) console.error(`page errors: ${pageErrors.join(' | ')}`);
  process.exitCode = 1;
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
