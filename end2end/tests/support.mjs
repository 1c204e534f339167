// Shared helpers for the browser tests: start the real torrentedge binary on a free loopback
// port and drive Debian's Chromium through playwright-core (no browser download here).
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const ARTIFACTS = new URL('../test-results/', import.meta.url).pathname;
mkdirSync(ARTIFACTS, { recursive: true });

export async function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** Starts `torrentedge serve` with its own data folder; resolves once /api/health answers. */
export async function startServer(extraEnv = {}) {
  const bin = process.env.TORRENTEDGE_BIN;
  if (!bin) throw new Error('TORRENTEDGE_BIN is not set: run the browser tests through `make test`');
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'te-e2e-'));
  const child = spawn(bin, ['serve', '--port', String(port), '--bind', '127.0.0.1'], {
    cwd: dataDir, // any working directory must do: the site is embedded in the binary
    env: { ...process.env, DATA_DIR: join(dataDir, 'data'), RUST_LOG: 'warn', DHT: 'false', LSD: 'false', UPNP: 'false', UTP: 'false', ...extraEnv },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    try {
      const r = await fetch(`${base}/api/health`);
      if (r.ok) break;
    } catch { /* not up yet */ }
    if (Date.now() > deadline) { child.kill(); throw new Error('server did not start in 30 s'); }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    base, dataDir,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** A page that records console errors and uncaught exceptions so tests can assert there are none. */
export async function newPage(browser, opts = {}) {
  const context = await browser.newContext(opts);
  const page = await context.newPage();
  page.errors = [];
  page.on('console', (m) => { if (m.type() === 'error') page.errors.push(m.text()); });
  page.on('pageerror', (e) => page.errors.push(String(e)));
  return page;
}

export async function shot(page, name) {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

const LT_PEER = new URL('../../engine/tests/peers/lt_peer.py', import.meta.url).pathname;

/** Runs engine/tests/peers/lt_peer.py (real libtorrent) and resolves when it prints READY. */
export async function libtorrent(args, { timeoutMs = 30_000 } = {}) {
  const child = spawn('/usr/bin/python3', [LT_PEER, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`lt_peer ${args[0]}: no READY in ${timeoutMs} ms`)), timeoutMs);
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/^READY (\d+)$/m);
      if (m) { clearTimeout(timer); resolve(Number(m[1])); }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`lt_peer ${args[0]} exited ${code}`)); });
  });
  return {
    port,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Makes a .torrent with libtorrent's create_torrent (no tracker: peers are given directly). */
export async function makeTorrent(path, out, pieceSize = 65536) {
  await new Promise((resolve, reject) => {
    const c = spawn('/usr/bin/python3', [LT_PEER, 'make-torrent', path, out, '--piece-size', String(pieceSize)],
      { stdio: ['ignore', 'ignore', 'inherit'] });
    c.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`make-torrent exited ${code}`))));
  });
}

/** Registers `username` through the dashboard and waits until the page shows them signed in. */
export async function register(page, base, username, password = 'a long enough password') {
  await page.goto(`${base}/register`);
  await page.waitForSelector('main[data-hydrated="true"]');
  await page.fill('#username', username);
  await page.fill('#password', password);
  await page.click('#auth-form button[type=submit]');
  await page.waitForSelector(`#whoami:text-is("${username}")`);
}

/** Bencodes strings, Buffers, integers, arrays and objects (keys sorted). */
export function bencode(v) {
  if (Buffer.isBuffer(v)) return Buffer.concat([Buffer.from(`${v.length}:`), v]);
  if (typeof v === 'string') return bencode(Buffer.from(v));
  if (typeof v === 'number') return Buffer.from(`i${Math.trunc(v)}e`);
  if (Array.isArray(v)) return Buffer.concat([Buffer.from('l'), ...v.map(bencode), Buffer.from('e')]);
  const keys = Object.keys(v).sort();
  return Buffer.concat([Buffer.from('d'), ...keys.flatMap((k) => [bencode(k), bencode(v[k])]), Buffer.from('e')]);
}

/** A valid single-file .torrent whose data exists nowhere (for list-scale tests). */
export function fakeTorrent(name, length, pieceLength = 262144) {
  const pieces = Buffer.alloc(20 * Math.ceil(length / pieceLength));
  for (let i = 0; i < pieces.length; i++) pieces[i] = Math.floor(Math.random() * 256);
  return bencode({ info: { name, length, 'piece length': pieceLength, pieces } });
}
