// The top bar's alternative-speed toggle: drawn once the page is live, and an admin's click
// switches the alternative limits (the API then reports them on).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, register } from './support.mjs';

let server, browser;
before(async () => {
  server = await startServer({ LOGIN_RATE_LIMIT: '1000' });
  browser = await launchBrowser();
});
after(async () => { await browser?.close(); await server?.stop(); });

test('the admin switches alternative speeds from the top bar', async () => {
  const page = await newPage(browser);
  await register(page, server.base, 'speedy');
  await page.goto(`${server.base}/torrents`);
  await page.waitForSelector('main[data-hydrated="true"]');
  await page.waitForSelector('#alt-speed:has-text("Alt speed off")');
  await page.click('#alt-speed');
  await page.waitForSelector('#alt-speed:has-text("Alt speed on")');
  const r = await page.context().request.get(`${server.base}/api/settings`);
  assert.equal(r.status(), 200);
  assert.equal((await r.json()).altEnabled, true);
  assert.deepEqual(page.errors, []);
});
