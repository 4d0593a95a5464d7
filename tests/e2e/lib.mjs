// lib.mjs: what every scenario shares: Debian's chromium through playwright-core (never a
// downloaded browser), a fresh profile, console-error capture, and small helpers.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const WEB_URL = need('WEB_URL');
export const API_URL = need('API_URL');
export const ARTIFACTS = process.env.ARTIFACTS_DIR || tmpdir();
const TRAIL_MAX = 60;

function need(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v.replace(/\/$/, '');
}

export function log(...args) {
  console.log(`[${new Date().toISOString().slice(11, 23)}]`, ...args);
}

// A browser with one context on a fresh, empty profile. Closed by close().
export async function launch({ width = 1366, height = 768 } = {}) {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (./manage.sh deps --test)`);
  const profile = mkdtempSync(join(tmpdir(), 'ticketd-e2e-profile-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width, height },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  context.setDefaultTimeout(20000);
  const problems = [];
  const CARD_REREAD = /\/api\/jobs\/[0-9a-f-]{36}\?itemsLimit=1$/;
  const allowed = [];
  // What a failure prints besides its screenshot: the last console lines and requests of
  // every page, so a failure seen only once (on CI) can still be read.
  const trail = [];
  const note = (line) => {
    trail.push(`[${new Date().toISOString().slice(11, 23)}] ${line}`);
    if (trail.length > TRAIL_MAX) trail.shift();
  };
  const watch = (page) => {
    page.on('console', (m) => note(`console.${m.type()}: ${m.text()}`));
    page.on('framenavigated', (f) => { if (f === page.mainFrame()) note(`navigated ${f.url()}`); });
    page.on('requestfinished', async (r) => {
      const res = await r.response().catch(() => null);
      note(`${r.method()} ${r.url().replace(/^https?:\/\/[^/]+/, '')} -> ${res ? res.status() : '?'}`);
    });
    page.on('requestfailed', (r) => note(`${r.method()} ${r.url().replace(/^https?:\/\/[^/]+/, '')} failed: ${r.failure()?.errorText}`));
    page.on('crash', () => problems.push('the page crashed'));
    page.on('console', (m) => {
      if (m.type() !== 'error') return;
      const text = m.text();
      if (allowed.some((re) => re.test(text))) return;
      // A live card re-reads its job over REST; a job the API does not know (an event
      // another test published straight to the hub, say) answers 404, the card goes away
      // (its own scenario checks that) and the browser logs the 404 as an error.
      if (/status of 404/.test(text) && CARD_REREAD.test(m.location()?.url || '')) return;
      problems.push(`console error: ${text} (${m.location()?.url || ''})`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  };
  context.on('page', watch);
  for (const p of context.pages()) watch(p);
  return {
    context,
    problems,
    trail,
    // Console lines a scenario provokes on purpose (a 401 it asked for, say).
    allow(re) { allowed.push(re); },
    async page() {
      const existing = context.pages().find((p) => p.url() === 'about:blank');
      return existing || context.newPage();
    },
    async close() {
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export async function login(page, email, password) {
  await page.goto(`${WEB_URL}/#/login`);
  await page.getByLabel('E-mail', { exact: true }).fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Tickets' }).waitFor();
}

export async function shot(page, name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file });
  log(`screenshot ${file}`);
  return file;
}

export function check(cond, message) {
  if (!cond) throw new Error(`check failed: ${message}`);
}

// Runs a scenario: exit 0 only when it finished and the page logged no error.
export async function run(name, fn, { timeoutMs = 180000 } = {}) {
  const t0 = Date.now();
  let browser;
  const timer = setTimeout(() => {
    console.error(`FAIL ${name}: timed out after ${timeoutMs} ms`);
    process.exit(1);
  }, timeoutMs);
  try {
    browser = await launch();
    await fn(browser);
    if (browser.problems.length) throw new Error(`the page logged errors:\n  ${browser.problems.join('\n  ')}`);
    log(`PASS ${name} in ${Date.now() - t0} ms`);
    clearTimeout(timer);
    await browser.close();
    process.exit(0);
  } catch (e) {
    console.error(`FAIL ${name}: ${e.stack || e}`);
    if (browser) {
      for (const [i, p] of browser.context.pages().entries()) {
        const seen = await p.evaluate(() => [location.href, document.querySelector('main')?.innerText
          ?? document.body.innerText]).catch((err) => [p.url(), `(cannot read the page: ${err.message})`]);
        console.error(`page ${i} at ${seen[0]} shows:\n  ${String(seen[1]).slice(0, 600).replace(/\n+/g, ' | ')}`);
        await shot(p, `${name}-failure-${i}`).catch(() => {});
      }
      console.error(`last ${browser.trail.length} things the pages did:\n  ${browser.trail.join('\n  ')}`);
      await browser.close();
    }
    process.exit(1);
  }
}
