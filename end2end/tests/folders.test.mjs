// Shared folders in the dashboard: a user adds a shared folder below SHARE_ROOTS from the
// Folders page, sees each file listed and reach seeding with a magnet link (the API agrees),
// and a folder outside the roots is refused with the server's reason.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, launchBrowser, newPage, shot, register } from './support.mjs';

let server, browser, roots, share, outside;

before(async () => {
  const work = mkdtempSync(join(tmpdir(), 'te-folders-'));
  roots = join(work, 'roots');
  share = join(roots, 'public');
  outside = join(work, 'outside');
  mkdirSync(share, { recursive: true });
  mkdirSync(outside, { recursive: true });
  writeFileSync(join(share, 'song.flac'), randomBytes(300_000));
  writeFileSync(join(share, 'cover.jpg'), randomBytes(40_000));
  server = await startServer({ LOGIN_RATE_LIMIT: '1000', SHARE_ROOTS: roots, FOLDER_RESCAN: '2' });
  browser = await launchBrowser();
});
after(async () => { await browser?.close(); await server?.stop(); });

test('share a folder from the Folders page and see its items reach seeding', async () => {
  const page = await newPage(browser);
  await register(page, server.base, 'sharer');
  await page.click('nav a[href="/folders"]');
  await page.waitForSelector('#folder-form');
  await page.waitForSelector('main[data-hydrated="true"]');
  await page.waitForSelector('#no-folders');

  // Outside the allowed roots: refused with the reason.
  await page.check('#folder-kind-share');
  await page.fill('#folder-path', outside);
  await page.click('#folder-add');
  await page.waitForSelector('text=outside the folders this server allows');

  await page.fill('#folder-path', share);
  await page.selectOption('#folder-mode', 'files');
  await page.click('#folder-add');
  await page.waitForSelector('tr.folder[data-kind="share"]');
  await page.waitForSelector('tr.share-item[data-name="song.flac"][data-state="seeding"]', { timeout: 60_000 });
  await page.waitForSelector('tr.share-item[data-name="cover.jpg"][data-state="seeding"]', { timeout: 60_000 });
  const magnet = await page.getAttribute('tr.share-item[data-name="song.flac"] a.item-magnet', 'href');
  assert.match(magnet, /^magnet:\?xt=urn:btih:[0-9a-f]{40}&dn=song\.flac$/);
  await shot(page, 'folders-shared');

  const r = await page.context().request.get(`${server.base}/api/folders`);
  assert.equal(r.status(), 200);
  const [folder] = await r.json();
  assert.equal(folder.kind, 'share');
  assert.deepEqual(folder.items.map((i) => [i.name, i.state]).sort(),
    [['cover.jpg', 'seeding'], ['song.flac', 'seeding']]);

  // Removing the folder takes its torrents out of the library.
  await page.click('tr.folder[data-kind="share"] button.folder-remove');
  await page.waitForSelector('#no-folders');
  const torrents = await (await page.context().request.get(`${server.base}/api/torrents`)).json();
  assert.deepEqual(torrents, []);
  assert.deepEqual(page.errors.filter((e) => !e.includes('403')), []);
});
