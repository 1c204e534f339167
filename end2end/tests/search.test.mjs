// Search across servers in the dashboard: a torrent marked public on its detail page is found
// on the search page by words of its name in another order, case and accents, shown as held
// by this server at once, while a federated server that never answers is still being asked
// (live results), then shown as timed out; a torrent not marked public is not found.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { startServer, launchBrowser, newPage, register } from './support.mjs';

const TIMEOUT_MS = 6000;
let server, browser, silent;
before(async () => {
  // A federated "server" that accepts connections and never answers.
  const held = [];
  silent = createServer((sock) => held.push(sock));
  await new Promise((ok) => silent.listen(0, '127.0.0.1', ok));
  silent.held = held;
  server = await startServer({
    LOGIN_RATE_LIMIT: '1000',
    FEDERATION_TOKEN: 'browser-test-token',
    FEDERATION_PEERS: `http://127.0.0.1:${silent.address().port}|whatever`,
    FEDERATION_TIMEOUT_MS: String(TIMEOUT_MS),
  });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
  silent?.held.forEach((s) => s.destroy());
  silent?.close();
});

/** Creates a torrent from an uploaded file on the create page; returns its detail URL. */
async function create(page, name) {
  await page.goto(`${server.base}/create`);
  await page.waitForSelector('main[data-hydrated="true"]');
  await page.setInputFiles('#create-files', [
    { name, mimeType: 'application/octet-stream', buffer: randomBytes(40_000) },
  ]);
  await page.fill('#create-name', name);
  await page.click('#create-submit');
  await page.waitForSelector('#created');
  await page.click('#created a:has-text("Open the torrent")');
  await page.waitForSelector('.detail-head .badge.seeding');
  return page.url().split('?')[0];
}

async function search(page, words) {
  await page.goto(`${server.base}/search`);
  await page.waitForSelector('main[data-hydrated="true"]');
  await page.fill('#search-query', words);
  await page.click('#search-form button[type=submit]');
  await page.waitForSelector('#search-servers');
}

test('a public torrent is found by the search page', async () => {
  const page = await newPage(browser);
  await register(page, server.base, 'sofia');
  const publicUrl = await create(page, 'Café Ñandú Fotos.bin');
  const hash = publicUrl.split('/').pop();
  await page.check('#public-toggle');
  await page.waitForFunction(() => document.querySelector('#public-toggle:not([disabled])'));
  const r = await page.request.get(`${server.base}/api/torrents/${hash}`);
  assert.equal((await r.json()).public, true);
  await create(page, 'Nandu hidden fotos.bin');

  const asked = Date.now();
  await search(page, 'FOTOS nandú cafe');
  const rows = page.locator('tr.search-result');
  await rows.first().waitFor();
  // Live: this server's result is there while the silent server is still being asked.
  assert.ok(Date.now() - asked < TIMEOUT_MS, 'the result waited for the silent server');
  assert.equal(await page.locator('#search-servers li[data-status="pending"]').count(), 1);
  await page.waitForSelector('#search-servers[data-pending="0"]', { timeout: TIMEOUT_MS + 5000 });
  assert.equal(await page.locator('#search-servers li[data-status="timeout"]').count(), 1);
  assert.equal(await rows.count(), 1);
  assert.equal(await rows.first().getAttribute('data-hash'), hash);
  assert.equal((await rows.first().locator('.name').textContent()).trim(), 'Café Ñandú Fotos.bin');
  assert.match(await rows.first().textContent(), /this server/);
  await rows.first().locator('a.here').waitFor();
  assert.equal(await page.getAttribute('#search-servers li', 'data-status'), 'ok');
  assert.match(page.url(), /\/search\?q=FOTOS/);

  // The query is in the URL: the page renders the same results on a fresh load.
  await page.reload();
  await page.locator('tr.search-result').first().waitFor();

  await search(page, 'hidden');
  await page.waitForSelector('#search-empty', { timeout: TIMEOUT_MS + 5000 });
  assert.equal(await page.locator('tr.search-result').count(), 0);
  assert.deepEqual(page.errors, []);
});
