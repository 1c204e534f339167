// The Network card on the Settings page: it shows the running choices (the test server runs
// with LSD and UPnP off, IPv6 on), the admin turns local discovery on, and the card and the
// API say it applies at the next start.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, register } from './support.mjs';

let server, browser;
before(async () => {
  server = await startServer({ LOGIN_RATE_LIMIT: '1000' });
  browser = await launchBrowser();
});
after(async () => { await browser?.close(); await server?.stop(); });

test('the admin turns local discovery on for the next start', async () => {
  const page = await newPage(browser);
  await register(page, server.base, 'netadmin');
  await page.goto(`${server.base}/settings`);
  await page.waitForSelector('main[data-hydrated="true"]');
  await page.waitForSelector('#network-state:has-text("In force now")');
  assert.equal(await page.isChecked('#network-ipv6'), true);
  assert.equal(await page.isChecked('#network-lsd'), false);
  assert.equal(await page.isChecked('#network-upnp'), false);
  await page.waitForSelector('#port-mappings:has-text("forwards no port")');
  await page.check('#network-lsd');
  await page.click('#save-network');
  await page.waitForSelector('#network-state:has-text("apply when the server restarts")');
  const r = await page.context().request.get(`${server.base}/api/settings`);
  assert.equal(r.status(), 200);
  const n = (await r.json()).network;
  assert.equal(n.lsd, true);
  assert.equal(n.restartRequired, true);
  assert.deepEqual(page.errors, []);
});
