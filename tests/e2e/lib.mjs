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
  const allowed = [];
  const watch = (page) => {
    page.on('console', (m) => {
      if (m.type() !== 'error') return;
      const text = m.text();
      if (allowed.some((re) => re.test(text))) return;
      problems.push(`console error: ${text} (${m.location()?.url || ''})`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  };
  context.on('page', watch);
  for (const p of context.pages()) watch(p);
  return {
    context,
    problems,
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
  await page.getByLabel('E-mail').fill(email);
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
      for (const [i, p] of browser.context.pages().entries()) await shot(p, `${name}-failure-${i}`).catch(() => {});
      await browser.close();
    }
    process.exit(1);
  }
}
