// The dashboard end to end in real Chromium: a real libtorrent seeder on 127.0.0.1 serves a
// multi-file torrent that a user adds through the page and watches finish live.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, existsSync, mkdtempSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, launchBrowser, newPage, shot, libtorrent, makeTorrent, register, fakeTorrent, freePort } from './support.mjs';

const NAME = 'dash-album';
let server, browser, seeder, torrentPath, otherTorrent, infoHash;

before(async () => {
  const work = mkdtempSync(join(tmpdir(), 'te-dash-'));
  const content = join(work, 'seed', NAME);
  mkdirSync(content, { recursive: true });
  // Two files, one crossing piece boundaries; ~6 MiB at 1.5 MB/s takes a few seconds,
  // long enough to watch progress, pause and resume.
  writeFileSync(join(content, 'track-01.bin'), randomBytes(4 * 1024 * 1024 + 12345));
  writeFileSync(join(content, 'cover.bin'), randomBytes(1_700_000));
  torrentPath = join(work, `${NAME}.torrent`);
  await makeTorrent(content, torrentPath);
  // A second torrent, for the user-isolation test (one info-hash belongs to one user).
  writeFileSync(join(work, 'notes.txt'), randomBytes(70_000));
  otherTorrent = join(work, 'notes.torrent');
  await makeTorrent(join(work, 'notes.txt'), otherTorrent, 16384);
  seeder = await libtorrent(['seed', torrentPath, join(work, 'seed'), '--upload-limit', '1500000']);
  // Many users sign in from 127.0.0.1 within a minute here; the login limit is per address.
  server = await startServer({ LOGIN_RATE_LIMIT: '1000' });
  browser = await launchBrowser();
});
after(async () => { await browser?.close(); await server?.stop(); await seeder?.stop(); });

/** The row's progress text, e.g. "42.1%". */
const rowPct = (page) => page.textContent('tr.torrent .pct');

test('register, add a torrent from a real seeder, watch it finish live, pause, resume, inspect, remove', async () => {
  const page = await newPage(browser);
  await register(page, server.base, 'alice');
  await shot(page, 'dash-1-overview-empty');

  // Logged in across reloads (the session cookie).
  await page.reload();
  await page.waitForSelector('#whoami:text-is("alice")');

  await page.goto(`${server.base}/torrents`);
  await page.waitForSelector('main[data-hydrated="true"]');
  // A marker that a full reload would wipe: progress must arrive over the event stream.
  await page.evaluate(() => { window.__noReload = true; });
  await page.click('.add-options summary');
  await page.fill('#add-peers', `127.0.0.1:${seeder.port}`);
  await page.setInputFiles('#torrent-file', torrentPath);
  // A .torrent of several files shows its file list first; all are ticked.
  await page.waitForSelector('#add-file-list');
  assert.equal(await page.locator('#add-file-list input[type=checkbox]:checked').count(), 2);
  await page.click('#add-selected');
  // The completion toast shows for 6 s whenever the download ends (maybe while the steps
  // below still run): watch for it from now on.
  const toast = page.waitForSelector('.toast:has-text("finished downloading")', { timeout: 120_000 });
  await page.waitForSelector('tr.torrent');
  assert.equal(await page.textContent('tr.torrent th.name a'), NAME);
  infoHash = await page.getAttribute('tr.torrent', 'data-hash');
  assert.match(infoHash, /^[0-9a-f]{40}$/);

  // Part-way progress shows up live.
  await page.waitForFunction(() => {
    const t = document.querySelector('tr.torrent .pct')?.textContent ?? '';
    const v = parseFloat(t);
    return v > 0 && v < 100;
  }, null, { timeout: 30_000 });
  await shot(page, 'dash-2-downloading');

  // Pause, then resume.
  await page.click('tr.torrent button.toggle');
  await page.waitForSelector('tr.torrent .badge.paused');
  const pausedAt = await rowPct(page);
  await page.waitForTimeout(1500);
  assert.equal(await rowPct(page), pausedAt, 'no progress while paused');
  await shot(page, 'dash-3-paused');
  await page.click('tr.torrent button.toggle');
  await page.waitForFunction(() => !document.querySelector('tr.torrent .badge.paused'));

  // The detail page (client-side navigation), while the download is still going.
  await page.click('tr.torrent th.name a');
  await page.waitForSelector('#detail-name');
  assert.equal(await page.textContent('#detail-name'), NAME);
  await page.waitForSelector('#files');
  const files = await page.$$eval('#files tbody th', (ths) => ths.map((t) => t.textContent));
  assert.deepEqual(files.sort(), [`${NAME}/cover.bin`, `${NAME}/track-01.bin`].sort());
  await shot(page, 'dash-4-detail-files');

  // Progress reaches 100% live, without a reload.
  await page.waitForFunction(() => document.querySelector('.detail-head .pct')?.textContent === '100.0%',
    null, { timeout: 60_000 });
  assert.equal(await page.evaluate(() => window.__noReload), true, 'the page was never reloaded');
  await page.waitForSelector('.detail-head .badge.seeding');
  // The completion notification arrives live: toast and bell.
  await toast;
  await page.waitForSelector('#unread-count');
  await shot(page, 'dash-5-complete');
  await page.click('#bell');
  await page.waitForSelector('.dropdown .notice:has-text("finished downloading")');
  await shot(page, 'dash-5b-notifications');
  await page.click('.dropdown button:has-text("Mark all read")');
  await page.waitForSelector('#unread-count', { state: 'detached' });
  await page.click('#bell');

  await page.click('#tab-peers');
  await page.waitForSelector('#peers, #no-peers');
  await shot(page, 'dash-6-peers');
  await page.click('#tab-info');
  assert.equal(await page.textContent('#info-hash'), infoHash);
  assert.match(await page.inputValue('#magnet-link'), new RegExp(`^magnet:\\?xt=urn:btih:${infoHash}`));
  await shot(page, 'dash-7-info');

  // Remove with its files.
  await page.goto(`${server.base}/torrents`);
  await page.waitForSelector('main[data-hydrated="true"]');
  await page.click('tr.torrent button.danger');
  await page.waitForSelector('#remove-dialog');
  await page.check('#delete-files');
  await shot(page, 'dash-8-remove-dialog');
  await page.click('#confirm-remove');
  await page.waitForSelector('#no-torrents');
  const saved = join(server.dataDir, 'data', 'downloads', 'alice', NAME);
  assert.equal(existsSync(saved), false, 'the downloaded files were deleted');
  assert.deepEqual(page.errors, [], 'no errors in the browser console');
});

test('the peers tab lists the seeder while downloading', async () => {
  const page = await newPage(browser);
  await register(page, server.base, 'carol');
  await page.goto(`${server.base}/torrents`);
  await page.waitForSelector('main[data-hydrated="true"]');
  await page.click('.add-options summary');
  await page.fill('#add-peers', `127.0.0.1:${seeder.port}`);
  await page.setInputFiles('#torrent-file', torrentPath);
  await page.click('#add-selected');
  await page.waitForSelector('tr.torrent');
  await page.click('tr.torrent th.name a');
  await page.waitForSelector('#detail-name');
  await page.click('#tab-peers');
  // Refreshed by progress events while the download runs.
  await page.waitForSelector(`#peers th:has-text("127.0.0.1:${seeder.port}")`, { timeout: 30_000 });
  assert.match(await page.textContent('#peers tbody tr'), /libtorrent|LT|-LT/i);
  await shot(page, 'dash-peers-live');
  assert.deepEqual(page.errors, [], 'no errors in the browser console');
});

test('a torrent added while the page was still opening its event stream shows up', async () => {
  const page = await newPage(browser);
  await register(page, server.base, 'lena');
  // Hold the page's event stream back: what happens between the page's render and the
  // stream's open would be lost if the dashboard did not read the list again on open.
  let release;
  const held = new Promise((ok) => { release = ok; });
  await page.route('**/api/events*', async (route) => { await held; await route.continue(); });
  await page.goto(`${server.base}/torrents`);
  await page.waitForSelector('main[data-hydrated="true"]');
  await page.waitForSelector('#no-torrents');
  // Another client (a script, another tab) adds one now.
  const csrf = (await page.context().cookies()).find((c) => c.name === 'te_csrf').value;
  const r = await page.context().request.post(`${server.base}/api/torrents`, {
    multipart: { torrent: { name: 'late.torrent', mimeType: 'application/x-bittorrent',
      buffer: fakeTorrent('late.iso', 500_000) }, paused: 'true' },
    headers: { 'X-CSRF-Token': csrf },
  });
  assert.equal(r.status(), 201, await r.text());
  release();
  await page.waitForSelector('tr.torrent th.name a:text("late.iso")', { timeout: 15_000 });
  // And the stream is live afterwards: a later change still arrives.
  const hash = await page.getAttribute('tr.torrent', 'data-hash');
  await page.context().request.post(`${server.base}/api/torrents/${hash}/resume`, { headers: { 'X-CSRF-Token': csrf } });
  await page.waitForSelector(`tr.torrent[data-hash="${hash}"] .badge:not(.paused)`);
  assert.deepEqual(page.errors, []);
});

test('a bad magnet link shows a readable error', async () => {
  const page = await newPage(browser);
  await register(page, server.base, 'dave');
  await page.goto(`${server.base}/torrents`);
  await page.waitForSelector('main[data-hydrated="true"]');
  await page.fill('#magnet', 'magnet:?xt=urn:btih:not-a-hash');
  await page.click('#add-magnet');
  await page.waitForSelector('#add-error');
  assert.match(await page.textContent('#add-error'), /magnet/i);
  assert.equal(await page.$('tr.torrent'), null);
  await shot(page, 'dash-bad-magnet');
  // The 400 shows in the console as a failed request; nothing else may.
  assert.deepEqual(page.errors.filter((e) => !/status of 400/.test(e)), []);
});

test("a second user cannot see the first user's torrent", async () => {
  const alice = await newPage(browser);
  await register(alice, server.base, 'erin');
  await alice.goto(`${server.base}/torrents`);
  await alice.waitForSelector('main[data-hydrated="true"]');
  await alice.setInputFiles('#torrent-file', otherTorrent);
  await alice.waitForSelector('tr.torrent');
  const hash = await alice.getAttribute('tr.torrent', 'data-hash');

  const bob = await newPage(browser);
  await register(bob, server.base, 'frank');
  await bob.goto(`${server.base}/torrents`);
  await bob.waitForSelector('#no-torrents');
  await bob.goto(`${server.base}/torrents/${hash}`);
  await bob.waitForSelector('#not-found');
  await shot(bob, 'dash-isolation');
  // A malformed address reaches the error boundary with a readable message.
  await bob.goto(`${server.base}/torrents/not-a-hash`);
  await bob.waitForSelector('[role=alert] h1:text("Something went wrong")');
  assert.match(await bob.textContent('[role=alert]'), /"not-a-hash" is not an info-hash/);
  await shot(bob, 'dash-error-boundary');
  // Bob adds his own torrent by dropping a file on the add box.
  await bob.goto(`${server.base}/torrents`);
  await bob.waitForSelector('main[data-hydrated="true"]');
  const bytes = [...fakeTorrent('dropped.iso', 300_000)];
  const dt = await bob.evaluateHandle((b) => {
    const d = new DataTransfer();
    d.items.add(new File([new Uint8Array(b)], 'dropped.torrent', { type: 'application/x-bittorrent' }));
    return d;
  }, bytes);
  await bob.dispatchEvent('#add-panel', 'dragover', { dataTransfer: dt });
  await bob.dispatchEvent('#add-panel', 'drop', { dataTransfer: dt });
  await bob.waitForSelector('tr.torrent th.name a:text("dropped.iso")');
  assert.deepEqual(bob.errors, []);
});

test('read-only pages render without JavaScript, at phone width, in the dark theme', async () => {
  const page = await newPage(browser, { javaScriptEnabled: false, viewport: { width: 390, height: 844 },
    colorScheme: 'dark' });
  // The login form works without JavaScript too: a wrong password comes back as a message,
  // the right one signs in and lands on the page asked for.
  await page.goto(`${server.base}/login?next=/torrents`);
  await page.fill('#username', 'erin');
  await page.fill('#password', 'not the password');
  await page.click('#auth-form button[type=submit]');
  assert.match(await page.textContent('#auth-error'), /invalid username or password/);
  await page.goto(`${server.base}/login?next=/torrents`);
  await page.fill('#username', 'erin');
  await page.fill('#password', 'a long enough password');
  await page.click('#auth-form button[type=submit]');
  await page.waitForURL(`${server.base}/torrents`);
  assert.equal(await page.textContent('#whoami'), 'erin');
  assert.equal(await page.textContent('tr.torrent th.name a'), 'notes.txt');
  await shot(page, 'dash-nojs-phone-list');
  const hash = await page.getAttribute('tr.torrent', 'data-hash');
  await page.goto(`${server.base}/torrents/${hash}`);
  await page.waitForSelector('#files');
  await page.goto(`${server.base}/torrents/${hash}?tab=info`);
  assert.equal(await page.textContent('#info-hash'), hash);
  await page.goto(`${server.base}/`);
  assert.equal(await page.textContent('#count-downloading, #count-seeding').then(() => 'ok'), 'ok');
  const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  assert.equal(bg, 'rgb(13, 17, 23)', 'dark theme follows the system');
  await shot(page, 'dash-nojs-phone-overview');
  // No horizontal scrolling at phone width.
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `page is ${overflow}px wider than the phone`);
});

test('chat messages reach another user live', async () => {
  const a = await newPage(browser);
  await register(a, server.base, 'gina');
  const b = await newPage(browser);
  await register(b, server.base, 'hank');
  await a.goto(`${server.base}/chat`);
  await b.goto(`${server.base}/chat`);
  await a.waitForSelector('main[data-hydrated="true"]');
  await b.waitForSelector('main[data-hydrated="true"]');
  await a.fill('#chat-input', 'hello from gina');
  await a.click('#chat-send');
  await b.waitForSelector('#messages .message:has-text("hello from gina")');
  await shot(b, 'dash-chat');
  assert.deepEqual([...a.errors, ...b.errors], []);
});

test('create a torrent from uploaded files, download it, and it seeds', async () => {
  const page = await newPage(browser, { acceptDownloads: true });
  await register(page, server.base, 'ivan');
  await page.goto(`${server.base}/create`);
  await page.waitForSelector('main[data-hydrated="true"]');
  await page.setInputFiles('#create-files', [
    { name: 'one.txt', mimeType: 'text/plain', buffer: randomBytes(40_000) },
    { name: 'two.txt', mimeType: 'text/plain', buffer: randomBytes(90_000) },
  ]);
  await page.fill('#create-name', 'made-here');
  await page.fill('#create-trackers', 'http://127.0.0.1:9/announce');
  await page.fill('#create-comment', 'from the dashboard test');
  await page.click('#create-submit');
  await page.waitForSelector('#created');
  await shot(page, 'dash-create');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#created a.button')]);
  assert.equal(download.suggestedFilename(), 'made-here.torrent');
  const path = join(mkdtempSync(join(tmpdir(), 'te-dl-')), 'made-here.torrent');
  await download.saveAs(path);
  const bytes = (await import('node:fs')).readFileSync(path);
  assert.ok(bytes.includes(Buffer.from('8:announce27:http://127.0.0.1:9/announce')), 'tracker in the file');
  // The web seed is on by default: this server's /ws URL is in the url-list and the magnet.
  assert.ok(bytes.includes(Buffer.from('8:url-listl')), 'web seed in the file');
  assert.match(await page.inputValue('#created-magnet'), /&ws=http%3A%2F%2F127\.0\.0\.1%3A\d+%2Fws%2F/);
  await page.click('#created a:has-text("Open the torrent")');
  await page.waitForSelector('#detail-name');
  assert.equal(await page.textContent('#detail-name'), 'made-here');
  await page.waitForSelector('.detail-head .badge.seeding');
  await page.click('#tab-info');
  assert.equal(await page.textContent('#info-comment'), 'from the dashboard test');
  assert.match(await page.textContent('#web-seeds'), /\/ws\/[0-9a-f]{40}\/[0-9a-f]{32}\/$/);
  // The trackers tab shows the web seed's state like a tracker's: idle while we seed.
  await page.click('#tab-trackers');
  const seedRow = await page.waitForSelector('#web-seed-status tr[data-state="idle"]');
  assert.match(await seedRow.textContent(), /\/ws\/[0-9a-f]{40}\/[0-9a-f]{32}\/.*Idle/);
  assert.deepEqual(page.errors, [], 'no errors in the browser console');
});

test('overview and statistics show the counts and charts', async () => {
  const page = await newPage(browser);
  await register(page, server.base, 'judy');
  await page.goto(`${server.base}/`);
  await page.waitForSelector('#count-downloading');
  assert.equal(await page.textContent('#count-downloading'), '0');
  await page.goto(`${server.base}/statistics`);
  await page.waitForSelector('#total-down');
  assert.ok(await page.$$eval('.chart svg', (s) => s.length) >= 4, 'four charts');
  // The test server runs without a DHT node (support.mjs sets DHT=false).
  assert.equal((await page.textContent('#dht-nodes')).trim(), 'off');
  await shot(page, 'dash-statistics');
  // The theme toggle cycles system -> light -> dark and sticks across a reload.
  await page.waitForSelector('main[data-hydrated="true"]');
  await page.click('#theme-toggle');
  await page.click('#theme-toggle');
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
  await page.reload();
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
  await shot(page, 'dash-statistics-dark');
  assert.deepEqual(page.errors, []);
});

test('a magnet goes from fetching metadata to 100% live', async () => {
  const work = mkdtempSync(join(tmpdir(), 'te-magnet-'));
  const content = join(work, 'seed', 'magnet-film.bin');
  mkdirSync(join(work, 'seed'), { recursive: true });
  writeFileSync(content, randomBytes(3 * 1024 * 1024 + 777));
  const torrent = join(work, 'magnet-film.torrent');
  await makeTorrent(content, torrent);
  const { createHash } = await import('node:crypto');
  const { readFileSync } = await import('node:fs');
  const hash = infoHashOf(readFileSync(torrent), createHash);
  // A server of its own, so its peer port is known: the seeder dials it once the magnet waits.
  const peerPort = await freePort();
  const srv = await startServer({ LOGIN_RATE_LIMIT: '1000', PEER_PORT: String(peerPort) });
  let lt;
  try {
    const page = await newPage(browser);
    await register(page, srv.base, 'gina');
    await page.goto(`${srv.base}/torrents`);
    await page.waitForSelector('main[data-hydrated="true"]');
    await page.evaluate(() => { window.__noReload = true; });
    await page.fill('#magnet', `magnet:?xt=urn:btih:${hash}&dn=shown-until-metadata`);
    await page.click('#add-magnet');
    await page.waitForSelector('tr.torrent');
    assert.equal(await page.textContent('tr.torrent th.name a'), 'shown-until-metadata');
    assert.equal(await page.textContent('tr.torrent .badge'), 'Fetching metadata');
    await shot(page, 'dash-magnet-1-metadata');
    // No tracker, no peer address: the metadata comes once a seeder connects to us.
    lt = await libtorrent(['seed', torrent, join(work, 'seed'), '--upload-limit', '1500000',
      '--connect', `127.0.0.1:${peerPort}`]);
    await page.waitForFunction(() => document.querySelector('tr.torrent th.name a')?.textContent === 'magnet-film.bin',
      null, { timeout: 60_000 });
    await page.waitForFunction(() => document.querySelector('tr.torrent .pct')?.textContent === '100.0%',
      null, { timeout: 60_000 });
    assert.equal(await page.evaluate(() => window.__noReload), true, 'updated live, without a reload');
    await shot(page, 'dash-magnet-2-complete');
    assert.deepEqual(page.errors, [], 'no errors in the browser console');
  } finally {
    await lt?.stop();
    await srv.stop();
  }
});

/** SHA-1 of the bencoded `info` value of a .torrent (the file from make-torrent has `info` last). */
function infoHashOf(bytes, createHash) {
  const key = Buffer.from('4:info');
  const at = bytes.indexOf(key);
  assert.ok(at > 0, 'the torrent has an info dictionary');
  return createHash('sha1').update(bytes.subarray(at + key.length, bytes.length - 1)).digest('hex');
}
