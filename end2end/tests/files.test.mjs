// File selection in real Chromium: the add dialog lists a multi-file .torrent's files to
// tick, the detail page's file tree sets each file's priority, and the torrent's seeding
// goals sit next to its limits. The API confirms what the page did.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, mkdtempSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, launchBrowser, newPage, register, makeTorrent } from './support.mjs';

let server, browser, torrentPath;

before(async () => {
  const work = mkdtempSync(join(tmpdir(), 'te-files-'));
  const content = join(work, 'trio');
  mkdirSync(content, { recursive: true });
  for (const name of ['one.bin', 'two.bin', 'three.bin']) {
    writeFileSync(join(content, name), randomBytes(90_000));
  }
  torrentPath = join(work, 'trio.torrent');
  await makeTorrent(content, torrentPath, 16384);
  server = await startServer({ LOGIN_RATE_LIMIT: '1000' });
  browser = await launchBrowser();
});
after(async () => { await browser?.close(); await server?.stop(); });

/** The torrent's files as the API lists them: path → priority. */
async function priorities(page, hash) {
  const r = await page.context().request.get(`${server.base}/api/torrents/${hash}/files`);
  assert.equal(r.status(), 200);
  return Object.fromEntries((await r.json()).map((f) => [f.path.split('/').pop(), f.priority]));
}

/** Re-checks `cond` (a server-side state the page changed) until it holds, for 10 s. */
async function until(cond) {
  const deadline = Date.now() + 10_000;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('condition never held');
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('choose files when adding, then change a file priority and the seeding goals', async () => {
  const page = await newPage(browser);
  await register(page, server.base, 'picker');
  await page.goto(`${server.base}/torrents`);
  await page.waitForSelector('main[data-hydrated="true"]');

  // Choosing the .torrent lists its files, all ticked; leave one out.
  await page.setInputFiles('#torrent-file', torrentPath);
  await page.waitForSelector('#add-file-list');
  const two = page.locator('#add-file-list label', { hasText: 'two.bin' }).locator('input');
  assert.equal(await two.isChecked(), true);
  await two.uncheck();
  await page.click('#add-selected');
  await page.waitForSelector('tr.torrent');
  const hash = await page.getAttribute('tr.torrent', 'data-hash');
  assert.deepEqual(await priorities(page, hash), { 'one.bin': 'normal', 'two.bin': 'skip', 'three.bin': 'normal' });

  // The detail page's file tree shows each file's priority and changes it.
  await page.click('tr.torrent th.name a');
  await page.waitForSelector('#files');
  const row = page.locator('#files tr', { hasText: 'two.bin' });
  const select = row.locator('select.file-priority');
  assert.equal(await select.inputValue(), 'skip');
  await select.selectOption('high');
  await page.waitForSelector('.toast:has-text("File priority saved")');
  assert.deepEqual(await priorities(page, hash), { 'one.bin': 'normal', 'two.bin': 'high', 'three.bin': 'normal' });
  const one = page.locator('#files tr', { hasText: 'one.bin' }).locator('select.file-priority');
  await one.selectOption('skip');
  await until(async () => (await priorities(page, hash))['one.bin'] === 'skip');

  // Piece order, goals and their action, next to the speed limits.
  await page.check('#sequential');
  await page.check('#first-last-piece');
  await page.fill('#ratio-limit', '2');
  await page.fill('#inactive-seeding-time-limit', '30');
  await page.selectOption('#goal-action', 'remove');
  await page.click('#save-goals');
  await page.waitForSelector('.toast:has-text("Seeding goals saved")');
  const r = await page.context().request.get(`${server.base}/api/torrents/${hash}`);
  const t = await r.json();
  assert.equal(t.sequential, true);
  assert.equal(t.firstLastPiece, true);
  assert.equal(t.goals.ratioLimit, 2);
  assert.equal(t.goals.inactiveSeedingTimeLimit, 30);
  assert.equal(t.goals.action, 'remove');
  // After a reload the form shows what was saved.
  await page.reload();
  await page.waitForSelector('main[data-hydrated="true"]');
  assert.equal(await page.isChecked('#first-last-piece'), true);
  assert.equal(await page.inputValue('#goal-action'), 'remove');
  assert.equal(await page.inputValue('#inactive-seeding-time-limit'), '30');
  await page.click('#tab-info');
  assert.match(await page.textContent('#seconds-seeding'), /^\d+s$/);
  assert.deepEqual(page.errors, []);
});

test('the admin sets the server-wide seeding goals on the settings page', async () => {
  const page = await newPage(browser);
  await register(page, server.base, 'goalkeeper');
  // The first account ('picker', above) is the admin: sign in as it.
  const admin = await newPage(browser);
  await admin.goto(`${server.base}/login`);
  await admin.waitForSelector('main[data-hydrated="true"]');
  await admin.fill('#username', 'picker');
  await admin.fill('#password', 'a long enough password');
  await admin.click('#auth-form button[type=submit]');
  await admin.waitForSelector('#whoami:text-is("picker")');
  await admin.goto(`${server.base}/settings`);
  await admin.waitForSelector('main[data-hydrated="true"]');
  await admin.waitForSelector('#goals-form');
  await admin.fill('#goal-ratio', '3');
  await admin.fill('#goal-idle', '45');
  await admin.selectOption('#goal-action', 'remove');
  await admin.click('#save-goals-settings');
  await admin.waitForSelector('.toast:has-text("Seeding goals saved")');
  const r = await page.context().request.get(`${server.base}/api/settings`);
  const s = await r.json();
  assert.deepEqual(s.seeding, { ratioLimit: 3, seedingTimeLimit: 0, inactiveSeedingTimeLimit: 45, action: 'remove' });
  assert.deepEqual(admin.errors, []);
});
