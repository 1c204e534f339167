// The build spine: a page is rendered on the server, then hydrated by the WASM bundle, and a
// server function answers from the browser.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, shot } from './support.mjs';

let server, browser;
before(async () => { server = await startServer(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await server?.stop(); });

test('pages are server-rendered without JavaScript', async () => {
  const html = await (await fetch(`${server.base}/statistics`)).text();
  assert.match(html, /id="server-version"[^>]*>\d+\.\d+\.\d+</);
  assert.match(html, /pkg\/torrentedge\.js/, 'hydration script is referenced');
  const page = await newPage(browser, { javaScriptEnabled: false });
  await page.goto(`${server.base}/statistics`);
  assert.match(await page.textContent('#server-version'), /^\d+\.\d+\.\d+$/);
  await shot(page, 'spine-no-js');
});

test('the bundle and styles are served from the binary', async () => {
  for (const [path, type] of [['/pkg/torrentedge_bg.wasm', 'application/wasm'],
    ['/pkg/torrentedge.js', 'text/javascript'], ['/style.css', 'text/css']]) {
    const r = await fetch(server.base + path);
    assert.equal(r.status, 200, path);
    assert.ok(r.headers.get('content-type').startsWith(type), `${path}: ${r.headers.get('content-type')}`);
  }
  assert.equal((await fetch(`${server.base}/no-such-page`)).status, 404);
});

test('page hydrates and a server function round trip works', async () => {
  const page = await newPage(browser);
  await page.goto(`${server.base}/statistics`);
  await page.waitForSelector('[data-hydrated="true"]', { timeout: 20_000 });
  const before = await page.textContent('#server-uptime');
  assert.ok(before.length > 0);
  await page.click('#refresh');
  await page.waitForFunction(() => document.querySelector('#refresh-count')?.textContent === '1');
  // The refetch comes back from the server function: the version is still shown.
  await page.waitForSelector('#server-version');
  assert.match(await page.textContent('#server-version'), /^\d+\.\d+\.\d+$/);
  await shot(page, 'spine-hydrated');
  assert.deepEqual(page.errors, [], 'no errors in the browser console');
});
