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
    env: { ...process.env, DATA_DIR: join(dataDir, 'data'), RUST_LOG: 'warn', ...extraEnv },
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
