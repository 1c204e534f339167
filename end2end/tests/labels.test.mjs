// Categories and tags in the dashboard: set them on the detail page, see them in the list,
// filter the list by them (kept in the URL), and see a change made through another client
// (qBittorrent's API) arrive live.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, launchBrowser, newPage, shot, register, fakeTorrent } from './support.mjs';

let server, browser, work;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'te-labels-'));
  writeFileSync(join(work, 'show.torrent'), fakeTorrent('show-s01e01.mkv', 400_000));
  writeFileSync(join(work, 'film.torrent'), fakeTorrent('film.mkv', 500_000));
  server = await startServer({ LOGIN_RATE_LIMIT: '1000' });
  browser = await launchBrowser();
});
after(async () => { await browser?.close(); await server?.stop(); });

const rowNames = (page) => page.$$eval('tr.torrent th.name a', (as) => as.map((a) => a.textContent));

test('set a category and tags, filter by them, and see another client\'s change live', async () => {
  const page = await newPage(browser);
  await register(page, server.base, 'lena', 'a long enough password');
  await page.goto(`${server.base}/torrents`);
  await page.waitForSelector('main[data-hydrated="true"]');
  await page.setInputFiles('#torrent-file', join(work, 'show.torrent'));
  await page.waitForSelector('tr.torrent th.name a:text("show-s01e01.mkv")');
  await page.setInputFiles('#torrent-file', join(work, 'film.torrent'));
  await page.waitForSelector('tr.torrent th.name a:text("film.mkv")');

  // Detail page: a new category (created on save) and two tags.
  await page.click('tr.torrent th.name a:text("show-s01e01.mkv")');
  await page.waitForSelector('#labels-editor');
  await page.fill('#label-category', 'tv');
  await page.fill('#label-tags', 'hd, new');
  await page.click('#save-labels');
  await page.waitForSelector('text=Labels saved');

  // The list shows them and filters by them; the filter is in the URL.
  await page.goto(`${server.base}/torrents`);
  await page.waitForSelector('main[data-hydrated="true"]');
  await page.waitForSelector('tr.torrent .labels:text("tv · #hd #new")');
  await page.selectOption('#filter-category', 'tv');
  await page.waitForFunction(() => document.querySelectorAll('tr.torrent').length === 1);
  assert.deepEqual(await rowNames(page), ['show-s01e01.mkv']);
  assert.match(page.url(), /category=tv/);
  await page.selectOption('#filter-category', '*');
  await page.selectOption('#filter-tag', '');
  await page.waitForFunction(() => document.querySelectorAll('tr.torrent').length === 1);
  assert.deepEqual(await rowNames(page), ['film.mkv']);
  await shot(page, 'labels-filtered');

  // The server renders the filtered list too (no JavaScript needed for the filter).
  const html = await (await fetch(`${server.base}/torrents?category=tv`, {
    headers: { cookie: (await page.context().cookies()).map((c) => `${c.name}=${c.value}`).join('; ') },
  })).text();
  assert.match(html, /show-s01e01\.mkv/);
  assert.doesNotMatch(html, /film\.mkv<\/a>/);

  // Another client (qBittorrent's API) tags the film: the open page updates live.
  await page.selectOption('#filter-tag', '*');
  const login = await fetch(`${server.base}/api/v2/auth/login`, {
    method: 'POST',
    body: new URLSearchParams({ username: 'lena', password: 'a long enough password' }),
  });
  assert.equal(await login.text(), 'Ok.');
  const sid = login.headers.get('set-cookie').split(';')[0];
  const hash = await page.getAttribute('tr.torrent:has(a:text("film.mkv"))', 'data-hash');
  const r = await fetch(`${server.base}/api/v2/torrents/addTags`, {
    method: 'POST', headers: { cookie: sid },
    body: new URLSearchParams({ hashes: hash, tags: 'remote' }),
  });
  assert.equal(r.status, 200);
  await page.waitForSelector('tr.torrent .labels:text("#remote")');
  assert.deepEqual(page.errors, []);
});
