// Streaming in real Chromium: a short video made with ffmpeg at test time is seeded by a real
// libtorrent peer (capped, so the download takes a while); the detail page plays it while it
// downloads, and `currentTime` advances before the torrent is complete. The Link button gives
// a signed URL that fetches the file without the login cookie.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, launchBrowser, newPage, register, makeTorrent, libtorrent, shot } from './support.mjs';

let server, browser, seeder, torrentPath, clip;

before(async () => {
  const work = mkdtempSync(join(tmpdir(), 'te-stream-'));
  const seed = join(work, 'seed');
  mkdirSync(seed, { recursive: true });
  clip = join(seed, 'clip.webm');
  // 20 s of noisy VP8 at a constant 2 Mbit/s: about 5 MB, a download of ~12 s at the seeder's cap.
  const ff = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i',
    'testsrc=size=320x240:rate=25,noise=alls=40:allf=t', '-t', '20', '-c:v', 'libvpx',
    '-b:v', '2M', '-minrate', '2M', '-maxrate', '2M', '-deadline', 'realtime',
    '-cpu-used', '8', '-y', clip]);
  assert.equal(ff.status, 0, `ffmpeg: ${ff.stderr}`);
  torrentPath = join(work, 'clip.torrent');
  await makeTorrent(clip, torrentPath, 65536);
  seeder = await libtorrent(['seed', torrentPath, seed, '--upload-limit', '400000']);
  server = await startServer({ LOGIN_RATE_LIMIT: '1000' });
  browser = await launchBrowser();
});
after(async () => { await browser?.close(); await server?.stop(); await seeder?.stop(); });

test('a video plays in the detail page while it downloads, and a signed link fetches it', async () => {
  const page = await newPage(browser);
  await register(page, server.base, 'viewer');
  await page.goto(`${server.base}/torrents`);
  await page.waitForSelector('main[data-hydrated="true"]');
  await page.click('.add-options summary');
  await page.fill('#add-peers', `127.0.0.1:${seeder.port}`);
  await page.setInputFiles('#torrent-file', torrentPath);
  await page.waitForSelector('tr.torrent');
  const hash = await page.getAttribute('tr.torrent', 'data-hash');
  await page.click('tr.torrent th.name a');
  await page.waitForSelector('#files');

  await page.click('#files button.play');
  await page.waitForSelector('video#player');
  await page.evaluate(() => { document.querySelector('video#player').muted = true; });
  // Playing: time advances while the torrent is still downloading.
  await page.waitForFunction(() => document.querySelector('video#player').currentTime > 1, null,
    { timeout: 30_000 });
  const t = await (await page.context().request.get(`${server.base}/api/torrents/${hash}`)).json();
  assert.equal(t.state, 'downloading', `the download was over before playback began: ${JSON.stringify(t)}`);
  assert.equal(await page.evaluate(() => document.querySelector('video#player').error), null);
  await shot(page, 'stream-playing');

  // A signed link works without any cookie.
  await page.click('#files button.stream-link');
  const url = await (await page.waitForSelector('#files input.stream-url')).inputValue();
  assert.match(url, /\/files\/0\/stream\?token=/);
  const anonymous = await browser.newContext();
  const r = await anonymous.request.get(url, { headers: { Range: 'bytes=0-1023' } });
  assert.equal(r.status(), 206);
  assert.deepEqual(Buffer.from(await r.body()), readFileSync(clip).subarray(0, 1024));
  await anonymous.close();
  assert.deepEqual(page.errors, []);
});
