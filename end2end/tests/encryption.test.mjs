// Peer encryption on the Settings page: the card shows the policy from ENCRYPTION, the admin
// chooses another and saves it, and the API (and the card) report the new one.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, register } from './support.mjs';

let server, browser;
before(async () => {
  server = await startServer({ LOGIN_RATE_LIMIT: '1000', ENCRYPTION: 'disabled' });
  browser = await launchBrowser();
});
after(async () => { await browser?.close(); await server?.stop(); });

test('the admin requires encryption from the settings page', async () => {
  const page = await newPage(browser);
  await register(page, server.base, 'crypto');
  await page.goto(`${server.base}/settings`);
  await page.waitForSelector('main[data-hydrated="true"]');
  await page.waitForSelector('#encryption-state:has-text("Now: disabled")');
  await page.selectOption('#encryption-policy', 'required');
  await page.click('#save-encryption');
  await page.waitForSelector('#encryption-state:has-text("Now: required")');
  const r = await page.context().request.get(`${server.base}/api/settings`);
  assert.equal(r.status(), 200);
  assert.equal((await r.json()).encryption, 'required');
  assert.deepEqual(page.errors, []);
});
