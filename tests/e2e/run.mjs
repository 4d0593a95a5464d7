// run.mjs SCENARIO: one end-to-end scenario in headless chromium against a running ticketd.
// Driven by tests/integration/test_e2e_browser.py, which creates the tickets each needs and
// passes WEB_URL, API_URL, TAG, ADMIN_EMAIL/ADMIN_PASSWORD, AGENT_EMAIL/AGENT_PASSWORD.
import { readFileSync } from 'node:fs';
import { run, login, shot, check, log, WEB_URL, API_URL } from './lib.mjs';

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set`);
  return v;
};
const ADMIN = [env('ADMIN_EMAIL'), env('ADMIN_PASSWORD')];
const AGENT = [env('AGENT_EMAIL'), env('AGENT_PASSWORD')];
const fmt = (n) => n.toLocaleString('en-US');

// Search for the scenario's tag and select every matching ticket through the UI.
async function selectAllTagged(page, tag, expected) {
  await page.getByLabel('Search').fill(tag);
  await page.getByText(`of ${fmt(expected)}`, { exact: false }).first().waitFor();
  await page.getByLabel('Page size').selectOption('100');
  await page.locator('tbody tr').nth(Math.min(expected, 100) - 1).waitFor();
  await page.getByLabel('Select all tickets on this page').check();
  if (expected > 100) {
    await page.getByRole('button', { name: `Select all ${fmt(expected)} matching tickets` }).click();
    await page.getByText(`All ${fmt(expected)} matching tickets selected`).waitFor({ timeout: 60000 });
  } else {
    await page.getByText(`${expected} selected`).waitFor();
  }
}

async function confirmBulkDelete(page, n) {
  await page.getByRole('button', { name: `Delete ${fmt(n)}`, exact: true }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByRole('heading', { name: `Delete ${fmt(n)} tickets?` }).waitFor();
  await dialog.getByRole('button', { name: `Delete ${fmt(n)}` }).click();
  await dialog.waitFor({ state: 'detached' });
}

const scenarios = {
  // Log in as admin, bulk-delete the tagged tickets, watch the bar reach 100%, open the job.
  async 'admin-bulk-delete'(b) {
    const tag = env('TAG');
    const n = Number(env('COUNT'));
    const page = await b.page();
    await login(page, ...ADMIN);
    await page.getByText('admin@example.com').waitFor();
    await selectAllTagged(page, tag, n);
    await confirmBulkDelete(page, n);

    const card = page.locator('.job-card').first();
    await card.waitFor();
    const bar = card.getByRole('progressbar');
    const seen = new Set();
    const t0 = Date.now();
    while (Date.now() - t0 < 60000) {
      const v = Number(await bar.getAttribute('aria-valuenow'));
      seen.add(v);
      if (v === 100 && (await card.getAttribute('data-status')) === 'completed') break;
      await page.waitForTimeout(50);
    }
    log(`progress values seen: ${[...seen].join(', ')}`);
    check(seen.has(100), 'the progress bar reached 100%');
    await card.getByText(`${fmt(n)} succeeded`).waitFor();
    await card.getByText('0 failed').waitFor();
    await page.locator('.toast', { hasText: 'completed' }).waitFor();
    // The table refreshed by itself: the deleted tickets are gone.
    await page.getByText('No tickets match these filters.').waitFor();
    await shot(page, 'admin-bulk-delete-done');

    await card.getByRole('link').click();
    await page.getByRole('heading', { name: /^Job / }).waitFor();
    await page.locator('[data-stat="total"] .stat-value').getByText(fmt(n)).waitFor();
    await page.locator('[data-stat="succeeded"] .stat-value').getByText(fmt(n)).waitFor();
    const items = page.getByRole('table', { name: 'Job items' }).locator('tbody tr');
    await items.first().waitFor();
    check(await items.count() === 50, `the first items page shows 50 rows (got ${await items.count()})`);
    await items.first().getByText('succeeded').waitFor();
    await page.getByText(`1–50 of ${fmt(n)} items`).waitFor();
    await page.getByRole('button', { name: 'Next ›' }).click();
    await page.getByText(`51–100 of ${fmt(n)} items`).waitFor();
    await page.getByLabel('Show').selectOption('failed');
    await page.getByText('No failed items.').waitFor();
    check(await page.getByRole('button', { name: 'Cancel job' }).isHidden(), 'no Cancel on a finished job');
  },

  // A larger job (too many tickets to pick by hand, so started through the API as another
  // tab would) shows up live on the tickets page and is canceled from its card while it runs;
  // its page then lists the canceled items.
  async 'admin-cancel'(b) {
    const ids = readFileSync(env('IDS_FILE'), 'utf8').split(/\s+/).filter(Boolean);
    const page = await b.page();
    await login(page, ...ADMIN);
    await page.locator('.live[data-state="open"]').waitFor();
    const token = await page.evaluate(() => sessionStorage.getItem('ticketd.token'));
    const res = await fetch(`${API_URL}/api/jobs`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
      body: JSON.stringify({ type: 'bulk-delete', payload: { ticketIds: ids } }),
    });
    check(res.status === 202, `POST /api/jobs answered ${res.status}`);
    const job = await res.json();
    log(`job ${job.id} with ${ids.length} items`);
    const card = page.locator(`.job-card[data-job-id="${job.id}"]`);
    await card.getByRole('button', { name: 'Cancel' }).click();
    await card.locator('.pill-canceled').waitFor();
    await page.locator('.toast', { hasText: 'canceled' }).waitFor();
    const pct = Number(await card.getByRole('progressbar').getAttribute('aria-valuenow'));
    check(pct < 100, `the job was canceled before the end (progress ${pct}%)`);
    await shot(page, 'admin-cancel-card');
    await card.getByRole('link').click();
    await page.getByRole('heading', { name: /^Job / }).waitFor();
    await page.locator('.title-row .pill-canceled').waitFor();
    await page.getByLabel('Show').selectOption('canceled');
    const items = page.getByRole('table', { name: 'Job items' }).locator('tbody tr');
    await items.first().locator('.pill-canceled').waitFor();
    check(await page.getByRole('button', { name: 'Cancel job' }).isHidden(), 'no Cancel on a canceled job');
    // The jobs list filters by status.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Jobs' }).click();
    await page.getByLabel('Status').selectOption('canceled');
    await page.locator(`tr[data-job-id="${job.id}"] .pill-canceled`).waitFor();
    await page.getByLabel('Status').selectOption('completed');
    await page.locator(`tr[data-job-id="${job.id}"]`).waitFor({ state: 'detached' });
  },

  // A failed job (made in SQL by the test) shows its error and Resume, not Cancel; Resume
  // runs the rest to completion on the page, and the button and the error go away.
  async 'admin-resume'(b) {
    const id = env('JOB_ID');
    const n = Number(env('COUNT'));
    const page = await b.page();
    await login(page, ...ADMIN);
    await page.locator('.live[data-state="open"]').waitFor();
    await page.goto(`${WEB_URL}/#/jobs/${id}`);
    await page.locator('.title-row .pill-failed').waitFor();
    await page.getByText('Error: chunk 0 failed').waitFor();
    check(await page.getByRole('button', { name: 'Cancel job' }).isHidden(), 'no Cancel on a failed job');
    await shot(page, 'admin-resume-failed');
    await page.getByRole('button', { name: 'Resume job' }).click();
    await page.locator('.title-row .pill-completed').waitFor({ timeout: 30000 });
    await page.locator('[data-stat="succeeded"] .stat-value').getByText(fmt(n)).waitFor();
    check(await page.getByRole('button', { name: 'Resume job' }).isHidden(), 'no Resume on a completed job');
    check(await page.locator('.job-summary .form-error').isHidden(), 'no error on a completed job');
    await shot(page, 'admin-resume-done');
  },

  // Create (with the API's field errors shown by each field), edit, Escape, sort, delete,
  // restore; then an expired token sends the user back to the login page with a message.
  async 'tickets-crud'(b) {
    const tag = env('TAG');
    b.allow(/status of 422/);   // the invalid create below, on purpose
    b.allow(/status of 401/);   // the expired token below, on purpose
    const page = await b.page();
    await login(page, ...ADMIN);
    await page.getByRole('button', { name: '+ New ticket' }).click();
    const dialog = page.getByRole('dialog', { name: 'New ticket' });
    await dialog.getByLabel('Requester e-mail').fill('not-an-email');
    await dialog.getByRole('button', { name: 'Create ticket' }).click();
    await dialog.locator('#tf-subject-error').getByText(/characters|required|blank/).waitFor();
    await dialog.locator('#tf-requesterEmail-error').getByText('e-mail').waitFor();
    check(await dialog.getByLabel('Subject').getAttribute('aria-invalid') === 'true', 'subject marked invalid');
    await dialog.getByLabel('Subject').fill(`${tag} printer on fire`);
    await dialog.getByLabel('Requester e-mail').fill('jo@example.com');
    await dialog.getByLabel('Priority').selectOption('urgent');
    await dialog.getByRole('button', { name: 'Create ticket' }).click();
    await dialog.waitFor({ state: 'detached' });
    await page.locator('.toast', { hasText: 'Ticket created.' }).waitFor();

    await page.getByLabel('Search').fill(tag);
    // The search runs after a pause in typing; until its answer is on screen the row still
    // sits in the unfiltered list, where the search's re-render would move it mid-click.
    await page.locator('.pager-info', { hasText: /^1–1 of 1$/ }).waitFor();
    const row = page.locator('tbody tr', { hasText: `${tag} printer on fire` });
    await row.locator('.pill-urgent').waitFor();
    await row.getByRole('button', { name: /^Edit/ }).click();
    const edit = page.getByRole('dialog', { name: 'Edit ticket' });
    await edit.getByLabel('Status').selectOption('resolved');
    await edit.getByRole('button', { name: 'Save changes' }).click();
    await edit.waitFor({ state: 'detached' });
    await row.locator('.pill-resolved').waitFor();
    await row.getByRole('button', { name: /^Edit/ }).click();
    await edit.waitFor();
    await page.keyboard.press('Escape');
    await edit.waitFor({ state: 'detached' });

    // A refresh that changes nothing on a row keeps the row's element, and with it a click
    // or the focus on it: here a filter that keeps the same one ticket.
    await row.evaluate((el) => { el.dataset.mark = 'kept'; });
    await Promise.all([
      page.waitForResponse((r) => r.url().includes('/api/tickets?') && r.url().includes('status=resolved')),
      page.locator('#t-status').selectOption('resolved'),
    ]);
    await page.locator('table.table:not([aria-busy])').waitFor();
    check(await page.locator('tbody tr[data-mark="kept"]').count() === 1, 'the unchanged row kept its element');
    await page.locator('#t-status').selectOption('');
    await page.locator('table.table:not([aria-busy])').waitFor();

    // Sorting by a column header shows the direction on the header.
    await page.getByRole('button', { name: 'Subject' }).click();
    await page.locator('th[aria-sort="ascending"]', { hasText: 'Subject' }).waitFor();
    await page.getByRole('button', { name: 'Subject' }).click();
    await page.locator('th[aria-sort="descending"]', { hasText: 'Subject' }).waitFor();

    await row.getByRole('button', { name: /^Delete/ }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
    await page.locator('.toast', { hasText: 'Ticket deleted.' }).waitFor();
    await page.getByText('No tickets match these filters.').waitFor();
    await page.getByLabel('View').selectOption('only');
    await row.getByRole('button', { name: 'Restore' }).click();
    await page.locator('.toast', { hasText: 'Ticket restored.' }).waitFor();
    await page.getByLabel('View').selectOption('');
    await row.waitFor();

    await page.evaluate(() => sessionStorage.setItem('ticketd.token', 'expired.token.value'));
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Jobs' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    await page.getByText('Your session has expired').waitFor();
    check(page.url().endsWith('#/login'), `back on the login page (${page.url()})`);
  },

  // Events can be lost while the socket is up: here none reaches the page (its WebSocket
  // opens, then says nothing). A running job on screen is canceled behind the page's back;
  // with no news of it for 5 s the page reads it again over REST and shows the end.
  async 'silent-socket'(b) {
    const id = env('JOB_ID');
    const page = await b.page();
    await page.addInitScript(() => {
      const Real = window.WebSocket;
      window.WebSocket = class extends Real {
        set onmessage(fn) { /* the hub's events are lost */ }
        get onmessage() { return null; }
      };
    });
    await login(page, ...ADMIN);
    await page.locator('.live[data-state="open"]').waitFor();
    await page.goto(`${WEB_URL}/#/jobs/${id}`);
    await page.locator('.title-row .pill-running').waitFor();
    const token = await page.evaluate(() => sessionStorage.getItem('ticketd.token'));
    const res = await fetch(`${API_URL}/api/jobs/${id}/cancel`, {
      method: 'POST', headers: { Authorization: `Bearer ${token}` },
    });
    check(res.status === 200, `POST /api/jobs/${id}/cancel answered ${res.status}`);
    const t0 = Date.now();
    await page.locator('.title-row .pill-canceled').waitFor({ timeout: 12000 });
    log(`the page showed the cancel ${Date.now() - t0} ms after it`);
    check(await page.locator('.live[data-state="open"]').count() === 1, 'the socket stayed open');
  },

  // An event names a running job the API does not know (here injected into the hub, as a
  // monitoring tool or a stale publisher could): its card appears, the page reads the job
  // again after 5 s of silence, gets 404, and drops the card instead of polling forever.
  async 'ghost-card'(b) {
    const id = env('JOB_ID');
    b.allow(/status of 404/);   // the re-read of the unknown job, on purpose
    const page = await b.page();
    await login(page, ...ADMIN);
    const card = page.locator(`article.job-card[data-job-id="${id}"]`);
    await card.waitFor({ timeout: 15000 });
    const t0 = Date.now();
    await card.waitFor({ state: 'detached', timeout: 20000 });
    log(`the unknown job's card went ${Date.now() - t0} ms after it appeared`);
  },

  // An agent sees tickets and jobs but no admin action.
  async 'agent-no-bulk'(b) {
    const page = await b.page();
    await login(page, ...AGENT);
    await page.getByText('agent@example.com').waitFor();
    await page.locator('tbody tr').first().waitFor();
    check(await page.locator('input[type="checkbox"]').count() === 0, 'no selection checkboxes');
    check(await page.getByRole('button', { name: /^(Bulk delete|Delete \d)/ }).count() === 0, 'no bulk delete');
    check(await page.getByLabel('View').count() === 0, 'no deleted-tickets view');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Jobs' }).click();
    await page.getByRole('heading', { name: 'Jobs' }).waitFor();
    check(await page.getByRole('button', { name: /Cancel|Resume/ }).count() === 0, 'no Cancel, no Resume');
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
  },
};

const name = process.argv[2];
if (!scenarios[name]) {
  console.error(`usage: node run.mjs <${Object.keys(scenarios).join('|')}>`);
  process.exit(2);
}
log(`scenario ${name} on ${WEB_URL}`);
await run(name, scenarios[name]);
