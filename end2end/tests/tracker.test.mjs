// The built-in tracker in the dashboard: a torrent created with "announce to this server's
// built-in tracker" announces to it; its Trackers tab shows the tracker's counts for it (one
// seeder: this server) and the announce working, and the statistics page's tracker card
// counts the swarm and the peer.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startServer, launchBrowser, newPage, register } from './support.mjs';

let server, browser;
before(async () => {
  server = await startServer({ LOGIN_RATE_LIMIT: '1000', TRACKER: 'true' });
  browser = await launchBrowser();
});
after(async () => { await browser?.close(); await server?.stop(); });

/** Reloads `url` until `selector`'s text matches `re` (announces take a moment). */
async function reloadUntil(page, url, selector, re) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    await page.goto(url);
    const el = await page.waitForSelector(selector);
    const text = (await el.textContent()).trim();
    if (re.test(text)) return text;
    assert.ok(Date.now() < deadline, `${selector} still says ${JSON.stringify(text)}`);
    await page.waitForTimeout(500);
  }
}

test('a torrent announced to the built-in tracker shows its swarm', async () => {
  const page = await newPage(browser);
  await register(page, server.base, 'tracy');
  await page.goto(`${server.base}/create`);
  await page.waitForSelector('main[data-hydrated="true"]');
  await page.setInputFiles('#create-files', [
    { name: 'tracked.bin', mimeType: 'application/octet-stream', buffer: randomBytes(70_000) },
  ]);
  await page.fill('#create-name', 'tracked');
  await page.check('#create-own-tracker');
  await page.click('#create-submit');
  await page.waitForSelector('#created');
  await page.click('#created a:has-text("Open the torrent")');
  await page.waitForSelector('.detail-head .badge.seeding');
  const detail = page.url().split('?')[0];
  const hash = detail.split('/').pop();
  assert.match(hash, /^[0-9a-f]{40}$/);
  await reloadUntil(page, `${detail}?tab=trackers`, '#built-in-tracker [data-field="seeders"]', /^1$/);
  assert.equal((await page.textContent('#built-in-tracker [data-field="leechers"]')).trim(), '0');
  assert.match(await page.textContent('#trackers'), new RegExp(`${server.base}/announce.*Working`));
  await reloadUntil(page, `${server.base}/statistics`, '#tracker-card #tracker-peers', /^1$/);
  assert.equal((await page.textContent('#tracker-card #tracker-torrents')).trim(), '1');
  assert.deepEqual(page.errors, []);
});
