// The torrent list with 500 torrents: it renders, filters and sorts in the browser, and a
// live update reaches its row. Timings are printed for docs/benchmarks.md, not asserted.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, shot, register, fakeTorrent } from './support.mjs';

const N = 500;
let server, browser;
before(async () => {
  // No peers anywhere: every torrent stays at 0%. The engine's connection caps keep it calm.
  server = await startServer({ MAX_PEERS_PER_TORRENT: '1' });
  browser = await launchBrowser();
});
after(async () => { await browser?.close(); await server?.stop(); });

test(`the list stays usable with ${N} torrents`, async () => {
  const page = await newPage(browser);
  await register(page, server.base, 'bulk');
  const csrf = (await page.context().cookies()).find((c) => c.name === 'te_csrf').value;
  const t0 = Date.now();
  for (let i = 0; i < N; i++) {
    const name = `item-${String(i).padStart(3, '0')}-${i % 7 === 0 ? 'linux' : 'media'}.iso`;
    const r = await page.context().request.post(`${server.base}/api/torrents`, {
      multipart: { torrent: { name: `${name}.torrent`, mimeType: 'application/x-bittorrent',
        buffer: fakeTorrent(name, 1_000_000 + i * 4096) }, paused: i % 2 === 0 ? 'true' : 'false' },
      headers: { 'X-CSRF-Token': csrf },
    });
    assert.equal(r.status(), 201, await r.text());
  }
  const addMs = Date.now() - t0;

  const t1 = Date.now();
  await page.goto(`${server.base}/torrents`);
  await page.waitForSelector('main[data-hydrated="true"]');
  const loadMs = Date.now() - t1;
  assert.equal(await page.$$eval('tr.torrent', (r) => r.length), N);
  assert.equal(await page.textContent('#torrent-count'), `${N} torrents`);

  // Text filter.
  const t2 = Date.now();
  await page.fill('#filter-text', 'linux');
  await page.waitForFunction((n) => document.querySelectorAll('tr.torrent').length === n, Math.ceil(N / 7));
  const filterMs = Date.now() - t2;
  await page.fill('#filter-text', '');
  await page.waitForFunction((n) => document.querySelectorAll('tr.torrent').length === n, N);

  // State filter and sort by name, descending (click the header twice).
  await page.selectOption('#filter-state', 'paused');
  await page.waitForFunction((n) => document.querySelectorAll('tr.torrent').length === n, N / 2);
  await page.selectOption('#filter-state', '');
  const t3 = Date.now();
  await page.click('th button.th-sort:has-text("Name")');
  await page.click('th button.th-sort:has-text("Name")');
  await page.waitForFunction(() => document.querySelector('tr.torrent th.name a')?.textContent.startsWith('item-499'));
  const sortMs = Date.now() - t3;
  assert.match(page.url(), /sort=name&dir=desc/);

  // A live update reaches its row: pause the top one through the API, watch its badge.
  const hash = await page.getAttribute('tr.torrent', 'data-hash');
  const paused = await page.$(`tr.torrent[data-hash="${hash}"] .badge.paused`);
  const action = paused ? 'resume' : 'pause';
  await page.context().request.post(`${server.base}/api/torrents/${hash}/${action}`, { headers: { 'X-CSRF-Token': csrf } });
  await page.waitForFunction(([h, wantPaused]) =>
    !!document.querySelector(`tr.torrent[data-hash="${h}"] .badge.paused`) === wantPaused, [hash, action === 'pause']);
  await shot(page, 'scale-500');
  console.log(`scale: add ${N} via API ${addMs} ms; load+hydrate ${loadMs} ms; filter ${filterMs} ms; sort ${sortMs} ms`);
  assert.deepEqual(page.errors, []);
});
