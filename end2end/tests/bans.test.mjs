// Banned peers on the Settings page: the admin bans an address by hand, sees it listed with
// its reason (the API agrees), and lifts the ban again.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, register } from './support.mjs';

let server, browser;
before(async () => {
  server = await startServer({ LOGIN_RATE_LIMIT: '1000' });
  browser = await launchBrowser();
});
after(async () => { await browser?.close(); await server?.stop(); });

test('the admin bans and unbans an address from the settings page', async () => {
  const page = await newPage(browser);
  await register(page, server.base, 'banner');
  await page.goto(`${server.base}/settings`);
  await page.waitForSelector('main[data-hydrated="true"]');
  await page.waitForSelector('#no-bans');
  await page.fill('#ban-ip', '127.0.0.9');
  await page.click('#ban-form button[type="submit"]');
  await page.waitForSelector('#ban-list tr.ban:has-text("127.0.0.9"):has-text("banned by a user")');
  const r = await page.context().request.get(`${server.base}/api/bans`);
  assert.equal(r.status(), 200);
  const bans = await r.json();
  assert.deepEqual(bans.map((b) => [b.ip, b.kind]), [['127.0.0.9', 'manual']]);
  await page.click('#ban-list tr.ban:has-text("127.0.0.9") button.unban');
  await page.waitForSelector('#no-bans');
  const after = await (await page.context().request.get(`${server.base}/api/bans`)).json();
  assert.deepEqual(after, []);
  assert.deepEqual(page.errors, []);
});
