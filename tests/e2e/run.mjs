// run.mjs SCENARIO: one end-to-end scenario in headless chromium against a running ticketd.
// Driven by tests/integration/test_e2e_browser.py, which creates the tickets each needs and
// passes WEB_URL, API_URL, TAG, ADMIN_EMAIL/ADMIN_PASSWORD, AGENT_EMAIL/AGENT_PASSWORD.
import { readFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { run, login, shot, check, log, WEB_URL, API_URL } from './lib.mjs';

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set`);
  return v;
};
const ADMIN = [env('ADMIN_EMAIL'), env('ADMIN_PASSWORD')];
const AGENT = [env('AGENT_EMAIL'), env('AGENT_PASSWORD')];
const fmt = (n) => n.toLocaleString('en-US');
const TERMINAL = ['completed', 'failed', 'canceled'];

// Search for the scenario's tag and select every matching ticket through the UI: the page
// by its checkbox, then (beyond one page) every ticket matching, which collects no ids.
async function selectAllTagged(page, tag, expected) {
  await page.getByLabel('Search').fill(tag);
  await page.locator('.pager-info', { hasText: new RegExp(` of ${fmt(expected)}$`) }).waitFor();
  await page.getByLabel('Page size').selectOption('100');
  await page.locator('tbody tr').nth(Math.min(expected, 100) - 1).waitFor();
  await page.getByLabel('Select all tickets on this page').check();
  if (expected > 100) {
    await page.getByRole('button', { name: `Select all ${fmt(expected)} matching tickets` }).click();
    await page.getByText(`All ${fmt(expected)} matching tickets selected`).waitFor({ timeout: 2000 });
  } else {
    await page.getByText(`${expected} selected`).waitFor();
  }
}

// Confirms a bulk delete: the dialog names what it deletes (title) and focuses Cancel, so
// that Enter never deletes by reflex. Returns the POST /api/jobs request it sent.
async function confirmBulkDelete(page, button, title, confirm) {
  await page.getByRole('button', { name: button, exact: true }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByRole('heading', { name: title, exact: true }).waitFor();
  const cancel = dialog.getByRole('button', { name: 'Cancel' });
  check(await cancel.evaluate((el) => el === document.activeElement), 'the confirm focuses Cancel');
  const [req] = await Promise.all([
    page.waitForRequest((r) => r.method() === 'POST' && r.url().endsWith('/api/jobs')),
    dialog.getByRole('button', { name: confirm, exact: true }).click(),
  ]);
  await dialog.waitFor({ state: 'detached' });
  return req;
}

// GET on the API with the page's token, as a test's own eyes.
async function apiGet(page, path) {
  const token = await page.evaluate(() => sessionStorage.getItem('ticketd.token'));
  const res = await fetch(`${API_URL}${path}`, { headers: { Authorization: `Bearer ${token}` } });
  check(res.status === 200, `GET ${path} answered ${res.status}`);
  return res.json();
}

// A page signed in as who, with its live updates connected (a job's events reach it).
async function signedIn(b, who) {
  const page = await b.page();
  await login(page, ...who);
  await page.locator('.live[data-state="open"]').waitFor();
  return page;
}

// The one ticket tagged tag, searched for in the list: its row and id (printed for the test).
async function theTagged(page, tag) {
  await page.getByLabel('Search').fill(tag);
  await page.locator('.pager-info', { hasText: /^1–1 of 1$/ }).waitFor();
  const row = page.locator('tbody tr').first();
  const id = await row.getAttribute('data-id');
  log(`TICKET ${id}`);
  return { row, id };
}

// Waits for a job card to end completed, within a deadline; returns the card.
async function cardCompleted(page, type, n, timeout = 60000) {
  const card = page.locator(`.job-card[data-type="${type}"]`).first();
  await card.waitFor();
  await page.locator(`.job-card[data-type="${type}"][data-status="completed"]`).first().waitFor({ timeout });
  await card.getByText(`${fmt(n)} succeeded`).waitFor();
  return card;
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
    await confirmBulkDelete(page, `Delete all ${fmt(n)}`, `Delete all ${fmt(n)} tickets matching "${tag}"?`,
      `Delete all ${fmt(n)}`);

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
    const page = await signedIn(b, ADMIN);
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
    const page = await signedIn(b, ADMIN);
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

    // The token goes bad and the link is followed in one task of the page: a poll of a
    // job on screen (another test's, in a slow run) would otherwise meet the bad token
    // first and send the user to the sign-in from this page, not from Jobs.
    const jobsLink = await page.getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Jobs' }).elementHandle();
    await page.evaluate((link) => {
      sessionStorage.setItem('ticketd.token', 'expired.token.value');
      link.click();
    }, jobsLink);
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    await page.getByText('Your session has expired').waitFor();
    check(page.url().endsWith('#/login?next=%2Fjobs'), `back on the login page, to return to Jobs (${page.url()})`);
  },

  // Another tab saves the ticket while this one edits it: Save meets 412, and the dialog
  // shows their version beside the typed one, field by field, without losing a character;
  // the field only they changed is merged, the one both changed is chosen, and Overwrite
  // saves against their version. Prints the ticket id for the test to check.
  async 'edit-conflict'(b) {
    const tag = env('TAG');
    const page = await signedIn(b, ADMIN);
    const { row, id } = await theTagged(page, tag);
    await row.getByRole('button', { name: /^Edit/ }).click();
    const edit = page.getByRole('dialog', { name: 'Edit ticket' });
    const mine = `${tag} mine`;
    const text = 'A long description typed here\nover two lines.';
    await edit.getByLabel('Subject').fill(mine);
    await edit.getByLabel('Description').fill(text);

    const token = await page.evaluate(() => sessionStorage.getItem('ticketd.token'));
    const res = await fetch(`${API_URL}/api/tickets/${id}`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
      body: JSON.stringify({ subject: `${tag} theirs`, priority: 'high' }),
    });
    check(res.status === 200, `the other tab's PUT answered ${res.status}`);

    b.allow(/status of 412/);   // the stale save, on purpose
    await edit.getByRole('button', { name: 'Save changes' }).click();
    const panel = edit.getByRole('region', { name: 'Conflict' });
    await panel.waitFor();
    const subjectRow = panel.locator('[data-field="subject"]');
    await subjectRow.locator('.conflict-theirs', { hasText: `${tag} theirs` }).waitFor();
    await subjectRow.locator('.conflict-yours', { hasText: mine }).waitFor();
    await panel.locator('[data-field="priority"][data-taken="true"]', { hasText: 'High' }).waitFor();
    check(await panel.locator('[data-field="description"]').count() === 0, 'the description was only mine: no question');
    check(await edit.getByLabel('Subject').inputValue() === mine, 'the typed subject is still in the form');
    check(await edit.getByLabel('Description').inputValue() === text, 'the typed description is still in the form');
    check(await edit.getByLabel('Priority').inputValue() === 'high', 'their priority is merged into the form');
    await shot(page, 'edit-conflict');

    await subjectRow.getByRole('button', { name: 'Use theirs' }).click();
    check(await edit.getByLabel('Subject').inputValue() === `${tag} theirs`, 'Use theirs puts theirs in the form');
    await subjectRow.getByRole('button', { name: 'Keep mine' }).click();
    check(await edit.getByLabel('Subject').inputValue() === mine, 'Keep mine brings the typed text back');
    const [put] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'PUT' && r.url().endsWith(`/api/tickets/${id}`)),
      panel.getByRole('button', { name: 'Overwrite with mine' }).click(),
    ]);
    check(put.status() === 200, `the overwrite answered ${put.status()}`);
    check(put.request().headers()['if-match'] === '"2"', `the overwrite names their version (${put.request().headers()['if-match']})`);
    await edit.waitFor({ state: 'detached' });
    await page.locator('.toast', { hasText: 'Ticket saved.' }).waitFor();
  },

  // One session for every tab of the browser: a link opened in a new tab needs no sign-in;
  // a session that expires mid-edit keeps the dialog's text and brings it back after
  // signing in, on the page it was on; a logout in one tab signs every tab out; a link
  // opened signed out lands on its page after the sign-in. Prints the ticket id.
  async 'session-tabs'(b) {
    const tag = env('TAG');
    b.allow(/status of 401/);   // the expired token below, on purpose
    const a = await signedIn(b, ADMIN);
    const { row, id } = await theTagged(a, tag);

    const other = await b.context.newPage();
    await other.goto(`${WEB_URL}/#/tickets/${id}`);
    await other.getByRole('heading', { name: `${tag} 1` }).waitFor();
    check(await other.getByRole('button', { name: 'Sign in' }).count() === 0, 'the new tab did not ask to sign in');

    // Mid-edit, the session expires: Save goes to the sign-in, and back with the text.
    await row.getByRole('button', { name: /^Edit/ }).click();
    const edit = a.getByRole('dialog', { name: 'Edit ticket' });
    const typed = `${tag} typed before the expiry`;
    await edit.getByLabel('Subject').fill(typed);
    await edit.getByLabel('Description').fill('kept over a sign-in');
    const listUrl = a.url();
    const save = await edit.getByRole('button', { name: 'Save changes' }).elementHandle();
    await a.evaluate((button) => {      //  in one task, as above
      sessionStorage.setItem('ticketd.token', 'expired.token.value');
      button.click();
    }, save);
    await a.getByText('Your session has expired').waitFor();
    await a.getByLabel('E-mail', { exact: true }).fill(ADMIN[0]);
    await a.getByLabel('Password').fill(ADMIN[1]);
    await a.getByRole('button', { name: 'Sign in' }).click();
    await edit.waitFor();
    check(a.url() === listUrl, `back on the page it was on (${a.url()}, was ${listUrl})`);
    check(await edit.getByLabel('Subject').inputValue() === typed, 'the typed subject is back');
    check(await edit.getByLabel('Description').inputValue() === 'kept over a sign-in', 'the typed description is back');
    await edit.getByRole('button', { name: 'Save changes' }).click();
    await edit.waitFor({ state: 'detached' });
    await a.locator('.toast', { hasText: 'Ticket saved.' }).waitFor();

    // A logout in the other tab signs this one out too.
    await other.getByRole('button', { name: 'Log out' }).click();
    await a.getByRole('button', { name: 'Sign in' }).waitFor({ timeout: 5000 });
    await a.getByText('You signed out in another tab.').waitFor();

    // Signed out everywhere, a link asks to sign in, then opens what it links to.
    const third = await b.context.newPage();
    await third.goto(`${WEB_URL}/#/tickets/${id}`);
    await third.getByLabel('E-mail', { exact: true }).fill(ADMIN[0]);
    await third.getByLabel('Password').fill(ADMIN[1]);
    await third.getByRole('button', { name: 'Sign in' }).click();
    await third.getByRole('heading', { name: typed }).waitFor();
    check(third.url().endsWith(`#/tickets/${id}`), `on the linked ticket (${third.url()})`);
    // ... and the tabs on their login pages follow that sign-in.
    await a.locator('.live').waitFor({ timeout: 5000 });
  },

  // The list's filters, search, sort, page and page size are in its URL: they survive a
  // reload, and the copied URL opens the same view in another tab; a ticket opened from
  // the list has its own address, and its breadcrumb goes back to the list as it was.
  async 'url-state'(b) {
    const tag = env('TAG');
    const n = Number(env('COUNT'));
    const page = await signedIn(b, ADMIN);
    await page.getByLabel('Status').selectOption('open');
    await page.getByLabel('Search').fill(tag);
    await page.locator('.pager-info', { hasText: new RegExp(`^1–20 of ${n}$`) }).waitFor();
    await page.getByLabel('Page size').selectOption('50');
    await page.getByRole('button', { name: 'Subject' }).click();
    await page.locator('th[aria-sort="ascending"]', { hasText: 'Subject' }).waitFor();
    await page.getByRole('button', { name: 'Next ›' }).click();
    const second = new RegExp(`^51–${n} of ${n}$`);
    await page.locator('.pager-info', { hasText: second }).waitFor();
    const firstOnPage2 = await page.locator('tbody tr').first().getAttribute('data-id');
    const url = page.url();
    log(`list URL ${url}`);

    // The same view, whether reloaded or opened elsewhere from the URL.
    const sameView = async (p) => {
      await p.locator('.pager-info', { hasText: second }).waitFor();
      await p.locator('th[aria-sort="ascending"]', { hasText: 'Subject' }).waitFor();
      check(await p.getByLabel('Search').inputValue() === tag, 'the search is back');
      check(await p.getByLabel('Status').inputValue() === 'open', 'the status filter is back');
      check(await p.getByLabel('Page size').inputValue() === '50', 'the page size is back');
      check(await p.locator('tbody tr').first().getAttribute('data-id') === firstOnPage2, 'the same rows');
    };
    await page.reload();
    await sameView(page);
    const other = await b.context.newPage();
    await other.goto(url);
    await sameView(other);
    await other.close();

    // A ticket from the list: its own address, which a reload keeps.
    const row = page.locator('tbody tr').first();
    const subject = await row.locator('a.subject').textContent();
    await row.locator('a.subject').click();
    await page.getByRole('heading', { name: subject }).waitFor();
    check(page.url().endsWith(`#/tickets/${firstOnPage2}`), `the ticket's address (${page.url()})`);
    await page.reload();
    await page.getByRole('heading', { name: subject }).waitFor();
    await page.getByRole('navigation', { name: 'Breadcrumb' }).getByRole('link', { name: 'Tickets' }).click();
    await sameView(page);

    // A link followed while the list reloads (a job card ending reloads it at any moment):
    // the reload runs after the URL changed but before its hashchange, and must not write
    // the list back over the link, or the router builds the list again.
    await page.evaluate((id) => {
      location.hash = `#/tickets/${id}`;
      const status = document.getElementById('t-status');
      status.value = '';
      status.dispatchEvent(new Event('change'));
    }, firstOnPage2);
    await page.getByRole('heading', { name: subject }).waitFor();
    check(page.url().endsWith(`#/tickets/${firstOnPage2}`), `the link's address kept (${page.url()})`);

    // The same within the list: another search opened by its URL (a bookmark, the address
    // bar) while the list reloads. The search asked for is the one shown.
    await page.getByRole('navigation', { name: 'Breadcrumb' }).getByRole('link', { name: 'Tickets' }).click();
    await page.locator('.pager-info', { hasText: /\S/ }).waitFor();
    const asked = `nomatch${Date.now()}`;
    await page.evaluate((q) => {
      location.hash = `#/tickets?q=${q}`;
      const status = document.getElementById('t-status');
      status.value = '';
      status.dispatchEvent(new Event('change'));
    }, asked);
    await page.getByText('No tickets match these filters.').waitFor();
    check(await page.getByLabel('Search').inputValue() === asked, `the search asked for is shown (${page.url()})`);
    check(page.url().endsWith(`#/tickets?q=${asked}`), `the search's address kept (${page.url()})`);
  },

  // The API's process stops while the hub's socket stays open: the badge stops saying
  // "Live" on its own (nothing clicked), a request then says that the server cannot be
  // reached (not the user's connection), and once the edge is back the badge is Live again.
  // SYSTEM_ENV_FILE: the system's environment (./manage.sh's), to stop and start the edge.
  async 'server-down'(b) {
    const sysEnv = JSON.parse(readFileSync(env('SYSTEM_ENV_FILE'), 'utf8'));
    b.allow(/ERR_CONNECTION_REFUSED|Failed to fetch/);   // the stopped edge, on purpose
    const page = await signedIn(b, ADMIN);
    const badge = page.locator('.live');
    await page.locator('tbody tr').first().waitFor();
    const pid = Number(readFileSync(`${sysEnv.VAR_DIR}/run/http-edge.pid`, 'utf8').trim());
    process.kill(pid, 'SIGTERM');
    const t0 = Date.now();
    log(`edge ${pid} stopped`);
    await page.locator('.live[data-state="offline"]').waitFor({ timeout: 20000 });
    log(`the badge said so ${Date.now() - t0} ms later: ${await badge.textContent()}`);
    check(await badge.textContent() === 'Server unreachable', `the badge names the server (${await badge.textContent()})`);
    await shot(page, 'server-down');
    await page.getByLabel('Search').fill('anything');
    const toast = page.locator('.toast-error').first();
    await toast.waitFor();
    const text = await toast.textContent();
    check(/server cannot be reached/.test(text) && !/your connection/i.test(text), `the toast blames the server (${text})`);

    await promisify(execFile)(`${process.cwd()}/manage.sh`, ['up'], { env: sysEnv, timeout: 120000 });
    const t1 = Date.now();
    await page.locator('.live[data-state="open"]').waitFor({ timeout: 20000 });
    log(`Live again ${Date.now() - t1} ms after the edge was up`);
  },

  // The form marks its required fields and says what is wrong in a user's words; Escape
  // on a filled form asks before it discards anything.
  async 'validation'(b) {
    b.allow(/status of 422/);   // the invalid creates below, on purpose
    const page = await signedIn(b, AGENT);
    await page.getByRole('button', { name: '+ New ticket' }).click();
    const dialog = page.getByRole('dialog', { name: 'New ticket' });
    for (const id of ['tf-subject', 'tf-requesterEmail']) {
      check(await dialog.locator(`#${id}`).getAttribute('aria-required') === 'true', `${id} is required to assistive tech`);
      check(await dialog.locator(`label[for="${id}"] .required-mark`).count() === 1, `${id} is marked`);
    }
    check(await dialog.getByLabel('Description').getAttribute('aria-required') === null, 'Description is optional');
    await dialog.getByRole('button', { name: 'Create ticket' }).click();
    const subjectError = dialog.locator('#tf-subject-error');
    await subjectError.getByText('Subject is required', { exact: true }).waitFor();
    await dialog.locator('#tf-requesterEmail-error').getByText('Requester e-mail is required', { exact: true }).waitFor();
    check(!/characters/.test(await subjectError.textContent()), 'not the API\'s raw rule');
    await dialog.getByLabel('Subject').fill('   ');
    await dialog.getByLabel('Requester e-mail').fill('a@b');
    await dialog.getByRole('button', { name: 'Create ticket' }).click();
    await dialog.locator('#tf-requesterEmail-error').getByText('Enter an e-mail address, like name@example.com').waitFor();
    await subjectError.getByText('Subject is required', { exact: true }).waitFor();
    await shot(page, 'validation');

    // Escape on a filled form asks; keeping on editing keeps the text; Discard closes.
    await dialog.getByLabel('Subject').fill('half-typed subject');
    await page.keyboard.press('Escape');
    const ask = page.getByRole('dialog', { name: 'Discard this new ticket?' });
    await ask.waitFor();
    await ask.getByRole('button', { name: 'Keep editing' }).click();
    await ask.waitFor({ state: 'detached' });
    check(await dialog.getByLabel('Subject').inputValue() === 'half-typed subject', 'the text is still there');
    await dialog.getByLabel('Subject').focus();
    await page.keyboard.press('Escape');
    await ask.getByRole('button', { name: 'Discard' }).click();
    await dialog.waitFor({ state: 'detached' });
  },

  // The first click on Priority puts the most urgent first; First, Last and a typed page
  // number move through the pages (COUNT tickets, one of them urgent and one low).
  async 'paging-sort'(b) {
    const tag = env('TAG');
    const n = Number(env('COUNT'));
    const page = await signedIn(b, AGENT);
    await page.getByLabel('Search').fill(tag);
    const info = page.locator('.pager-info');
    await info.filter({ hasText: new RegExp(`^1–20 of ${n}$`) }).waitFor();
    await page.getByRole('button', { name: 'Priority' }).click();
    await page.locator('th[aria-sort="descending"]', { hasText: 'Priority' }).waitFor();
    await page.locator('tbody tr').first().locator('.pill-urgent').waitFor();
    await page.getByRole('button', { name: 'Last page' }).click();
    await info.filter({ hasText: new RegExp(`^41–${n} of ${n}$`) }).waitFor();
    await page.locator('tbody tr').last().locator('.pill-low').waitFor();
    check(await page.getByRole('button', { name: 'Next ›' }).isDisabled(), 'no Next on the last page');
    await page.getByRole('button', { name: 'First page' }).click();
    await info.filter({ hasText: new RegExp(`^1–20 of ${n}$`) }).waitFor();
    await page.getByLabel('Page', { exact: true }).fill('2');
    await page.getByLabel('Page', { exact: true }).press('Enter');
    await info.filter({ hasText: new RegExp(`^21–40 of ${n}$`) }).waitFor();
    check(/[?&]page=2(&|$)/.test(page.url()) && /sort=-priority/.test(page.url()), `the URL says so (${page.url()})`);
    await page.getByRole('button', { name: 'Priority' }).click();
    await page.locator('th[aria-sort="ascending"]', { hasText: 'Priority' }).waitFor();
    await page.locator('tbody tr').first().locator('.pill-low').waitFor();
  },

  // Keyboard: / searches, j / → and k move through pages, x picks a row, n opens a new
  // ticket; and the page follows the system's dark setting.
  async 'keyboard-dark'(b) {
    const tag = env('TAG');
    const n = Number(env('COUNT'));
    const page = await b.page();
    const rootBg = () => page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
    await page.emulateMedia({ colorScheme: 'dark' });
    await login(page, ...AGENT);
    check(await rootBg() === 'rgb(20, 20, 20)', `dark background (${await rootBg()})`);
    // Every pill on the list (statuses, priorities, the role) dark too, its text light.
    await page.locator('tbody .pill').first().waitFor();
    const light = await page.evaluate(() => [...document.querySelectorAll('.pill')].map((el) => {
      const luma = (c) => { const [r, g, b] = c.match(/\d+/g).map(Number); return 0.299 * r + 0.587 * g + 0.114 * b; };
      const s = getComputedStyle(el);
      return [el.className, Math.round(luma(s.backgroundColor)), Math.round(luma(s.color))];
    }).filter(([, bg, fg]) => bg > 80 || fg < 120));
    check(light.length === 0, `pills keep light colours in dark mode: ${JSON.stringify(light.slice(0, 4))}`);
    await shot(page, 'keyboard-dark');
    await page.emulateMedia({ colorScheme: 'light' });
    check(await rootBg() === 'rgb(245, 246, 248)', `light background (${await rootBg()})`);

    const info = page.locator('.pager-info');
    await page.getByRole('heading', { name: 'Tickets' }).click();
    await page.keyboard.press('/');
    check(await page.getByLabel('Search').evaluate((el) => el === document.activeElement), '/ focuses the search');
    await page.keyboard.type(tag);
    await info.filter({ hasText: new RegExp(`^1–20 of ${n}$`) }).waitFor();
    await page.getByRole('heading', { name: 'Tickets' }).click();
    await page.keyboard.press('j');
    await info.filter({ hasText: new RegExp(`^21–40 of ${n}$`) }).waitFor();
    await page.keyboard.press('ArrowRight');
    await info.filter({ hasText: new RegExp(`^41–${n} of ${n}$`) }).waitFor();
    await page.keyboard.press('k');
    await info.filter({ hasText: new RegExp(`^21–40 of ${n}$`) }).waitFor();
    await page.keyboard.press('x');
    await page.getByText('1 selected').waitFor();
    check(await page.locator('tbody tr').first().getByRole('checkbox').isChecked(), 'x picked the first row');
    await page.keyboard.press('x');
    await page.getByRole('region', { name: 'Selection' }).waitFor({ state: 'hidden' });
    await page.keyboard.press('n');
    const dialog = page.getByRole('dialog', { name: 'New ticket' });
    await dialog.waitFor();
    await page.keyboard.press('n');   // typed into the subject, not another dialog
    check(await dialog.getByLabel('Subject').inputValue() === 'n', 'keys in a field are typing');
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

  // Every open ticket matching a search, more than a page, deleted by one filter job (no
  // ids collected: the request carries the filter and the count shown), then undone from
  // the toast; the job's page says what it covered, lists the items with their subjects,
  // exports them as CSV, and a ticket's history shows both jobs.
  async 'filter-delete-undo'(b) {
    const tag = env('TAG');
    const n = Number(env('COUNT'));
    const page = await signedIn(b, ADMIN);
    await page.getByLabel('Status').selectOption('open');
    await selectAllTagged(page, tag, n);
    const t0 = Date.now();
    const req = await confirmBulkDelete(page, `Delete all ${fmt(n)}`,
      `Delete all ${fmt(n)} tickets with status Open matching "${tag}"?`, `Delete all ${fmt(n)}`);
    const body = req.postDataJSON();
    log(`POST /api/jobs ${JSON.stringify(body)}`);
    check(body.type === 'bulk-delete' && !body.payload.ticketIds, 'a filter job, no id list');
    check(JSON.stringify(body.payload.filter) === JSON.stringify({ status: 'open', q: tag }),
      `the list's filters (got ${JSON.stringify(body.payload.filter)})`);
    check(body.payload.expectedTotal === n, `expectedTotal is the count shown (got ${body.payload.expectedTotal})`);
    await page.locator('.job-card[data-type="bulk-delete"]').first().waitFor({ timeout: 5000 });
    log(`job card visible ${Date.now() - t0} ms after the confirm`);
    const card = await cardCompleted(page, 'bulk-delete', n);
    await page.getByText('No tickets match these filters.').waitFor();
    const gone = await apiGet(page, `/api/tickets?q=${tag}&status=open&limit=1`);
    check(gone.total === 0, `the API lists none of them (got ${gone.total})`);
    const deleteId = await card.getAttribute('data-job-id');

    // Undo from the toast: one bulk-restore of that job brings every one of them back.
    const toast = page.locator('.toast', { hasText: `Bulk delete ${deleteId.slice(0, 8)} completed` });
    await toast.getByRole('button', { name: 'Undo' }).click();
    const undoCard = await cardCompleted(page, 'bulk-restore', n);
    await undoCard.locator('.job-covers', { hasText: `undo of job ${deleteId.slice(0, 8)}` }).waitFor();
    await page.locator('.pager-info', { hasText: new RegExp(` of ${fmt(n)}$`) }).waitFor();
    const back = await apiGet(page, `/api/tickets?q=${tag}&status=open&limit=1`);
    check(back.total === n, `the API lists all ${n} again (got ${back.total})`);
    await shot(page, 'filter-delete-undo-restored');

    // The delete job's page: who, what, the items with their subjects, CSV, and Restore.
    await card.getByRole('link', { name: deleteId.slice(0, 8) }).click();
    await page.getByRole('heading', { name: /^Job / }).waitFor();
    await page.locator('.meta .job-owner').getByText('Admin').waitFor();
    await page.locator('.meta .job-covers').getByText(`tickets with status Open matching "${tag}"`).waitFor();
    await page.locator('[data-stat="total"] .stat-value').getByText(fmt(n)).waitFor();
    check(await page.getByRole('button', { name: 'Restore what this job deleted' }).isVisible(), 'Restore is offered');
    const items = page.getByRole('table', { name: 'Job items' }).locator('tbody tr');
    const subject = items.first().locator('a.subject');
    check((await subject.textContent()).startsWith(`${tag} `), 'an item shows its ticket subject');
    const [download] = await Promise.all([
      page.waitForEvent('download', { timeout: 30000 }),
      page.getByRole('button', { name: 'Export CSV' }).click(),
    ]);
    const csv = readFileSync(await download.path(), 'utf8').trim().split('\r\n');
    check(csv[0] === '"ticketId","subject","status","errorCode","errorMessage"', `the CSV header (${csv[0]})`);
    check(csv.length === n + 1, `the CSV has every item (${csv.length - 1} of ${n})`);
    check(csv.slice(1).every((l) => l.includes(`"${tag} `) && l.includes('"succeeded"')), 'every row a succeeded item');
    await page.locator('.toast', { hasText: `Exported ${fmt(n)} items.` }).waitFor();

    // The ticket's history: deleted through the job, restored through its undo.
    await subject.click();
    const history = page.getByRole('list', { name: 'History' });
    await history.locator('[data-action="deleted"]').getByRole('link', { name: `via job ${deleteId.slice(0, 8)}` }).waitFor();
    await history.locator('[data-action="restored"]').getByText('Admin').waitFor();
    await shot(page, 'filter-delete-undo-history');
  },

  // An agent picks three tickets and bulk-edits their status and assignee (through the
  // picker's search), sees the result in the list, in Mine and Unassigned, and in the
  // history of one of them. Prints the ids it edited for the test to check through the API.
  async 'bulk-edit'(b) {
    const tag = env('TAG');
    const page = await signedIn(b, AGENT);
    await page.getByLabel('Search').fill(tag);
    await page.locator('.pager-info', { hasText: /^1–5 of 5$/ }).waitFor();
    const rows = page.locator('tbody tr');
    const ids = [];
    for (let i = 0; i < 3; i++) {
      ids.push(await rows.nth(i).getAttribute('data-id'));
      await rows.nth(i).getByRole('checkbox').check();
    }
    log(`EDITED ${ids.join(',')}`);
    // A small job may end before the answer to its POST reaches the page: here it always
    // does (the answer is held until the job has ended), and the page must still see the
    // end: the list reloads and the toast says so.
    await page.route('**/api/jobs', async (route) => {
      if (route.request().method() !== 'POST') return route.continue();
      const res = await route.fetch();
      const { id } = await res.json();
      const deadline = Date.now() + 30000;
      while (Date.now() < deadline && !TERMINAL.includes((await apiGet(page, `/api/jobs/${id}?itemsLimit=1`)).status)) {
        await page.waitForTimeout(100);
      }
      await page.waitForTimeout(500);   // and its final event has reached the page
      await route.fulfill({ response: res });
    });
    await page.getByText('3 selected').waitFor();
    check(await page.getByRole('button', { name: /^Delete \d/ }).count() === 0, 'no bulk delete for an agent');
    await page.getByRole('button', { name: 'Edit 3', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Edit 3 tickets' });
    await dialog.getByLabel('Status').selectOption('pending');
    await dialog.getByLabel('Assignee', { exact: true }).fill('agent@');
    await dialog.getByRole('option', { name: /^Agent/ }).click();
    check(await dialog.getByLabel('Assignee', { exact: true }).inputValue() === 'Agent <agent@example.com>', 'the picker holds the agent');
    await dialog.getByRole('button', { name: 'Apply' }).click();
    await dialog.waitFor({ state: 'detached' });
    const card = await cardCompleted(page, 'bulk-update', 3);
    await card.getByText('set status Pending, assignee Agent').waitFor();
    await page.locator('.toast', { hasText: 'completed: 3 updated' }).waitFor();
    for (const id of ids) {
      const row = page.locator(`tbody tr[data-id="${id}"]`);
      await row.locator('.pill-pending').waitFor();
      await row.locator('.col-assignee').getByText('Agent').waitFor();
    }
    await page.getByRole('button', { name: 'Mine' }).click();
    await page.locator('.pager-info', { hasText: /^1–3 of 3$/ }).waitFor();
    await page.getByRole('button', { name: 'Unassigned' }).click();
    await page.locator('.pager-info', { hasText: /^1–2 of 2$/ }).waitFor();
    check(await page.getByRole('button', { name: 'Mine' }).getAttribute('aria-pressed') === 'false', 'Mine is off');
    await page.getByRole('button', { name: 'Unassigned' }).click();
    await page.locator('.pager-info', { hasText: /^1–5 of 5$/ }).waitFor();
    await shot(page, 'bulk-edit-done');

    await page.locator(`tbody tr[data-id="${ids[0]}"]`).getByRole('button', { name: /^Edit/ }).click();
    const edit = page.getByRole('dialog', { name: 'Edit ticket' });
    check(await edit.getByLabel('Assignee', { exact: true }).inputValue() === 'Agent <agent@example.com>', 'the dialog names the assignee');
    await edit.locator('summary', { hasText: 'History' }).click();
    const change = edit.getByRole('list', { name: 'History' }).locator('[data-action="updated"]');
    await change.locator('[data-field="status"]', { hasText: 'Open → Pending' }).waitFor();
    await change.locator('[data-field="assigneeId"]', { hasText: 'nobody → Agent' }).waitFor();
    await change.getByRole('link', { name: /^via job / }).waitFor();
  },

  // The Deleted view, latest deleted first by its Deleted column: two picked tickets
  // restored by id, then every other one matching the search by one filter job.
  async 'deleted-restore'(b) {
    const tag = env('TAG');
    const n = Number(env('COUNT'));
    const page = await signedIn(b, ADMIN);
    await page.getByLabel('View').selectOption('only');
    await page.locator('th[aria-sort="descending"]', { hasText: 'Deleted' }).waitFor();
    await page.getByLabel('Search').fill(tag);
    await page.locator('.pager-info', { hasText: new RegExp(` of ${fmt(n)}$`) }).waitFor();
    const rows = page.locator('tbody tr');
    await rows.first().locator('.subject', { hasText: new RegExp(`^${tag} 1$`) }).waitFor();
    const picked = [await rows.nth(0).getAttribute('data-id'), await rows.nth(1).getAttribute('data-id')];
    for (let i = 0; i < 2; i++) await rows.nth(i).getByRole('checkbox').check();
    const [byIds] = await Promise.all([
      page.waitForRequest((r) => r.method() === 'POST' && r.url().endsWith('/api/jobs')),
      page.getByRole('button', { name: 'Restore 2', exact: true }).click(),
    ]);
    check(JSON.stringify(byIds.postDataJSON().payload.ticketIds.sort()) === JSON.stringify(picked.sort()),
      'the picked ids are restored');
    await cardCompleted(page, 'bulk-restore', 2);
    await page.locator('.pager-info', { hasText: new RegExp(` of ${fmt(n - 2)}$`) }).waitFor();
    await page.getByLabel('Select all tickets on this page').check();
    await page.getByRole('button', { name: `Select all ${fmt(n - 2)} matching tickets` }).click();
    await page.getByRole('button', { name: `Restore all ${fmt(n - 2)}`, exact: true }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('heading', { name: `Restore all ${fmt(n - 2)} deleted tickets matching "${tag}"?` }).waitFor();
    await dialog.getByRole('button', { name: `Restore ${fmt(n - 2)}` }).click();
    await page.locator(`.job-card[data-type="bulk-restore"][data-status="completed"]`, { hasText: `${fmt(n - 2)} succeeded` }).waitFor({ timeout: 60000 });
    await page.getByText('No tickets match these filters.').waitFor();
    const live = await apiGet(page, `/api/tickets?q=${tag}&limit=1`);
    check(live.total === n, `the API lists all ${n} live (got ${live.total})`);
  },

  // An agent may bulk-edit a selection but sees no admin action.
  async 'agent-no-bulk'(b) {
    const page = await b.page();
    await login(page, ...AGENT);
    await page.getByText('agent@example.com').waitFor();
    await page.locator('tbody tr').first().waitFor();
    await page.locator('tbody tr').first().getByRole('checkbox').check();
    await page.getByText('1 selected').waitFor();
    check(await page.getByRole('button', { name: 'Edit 1', exact: true }).isVisible(), 'bulk edit offered');
    check(await page.getByRole('button', { name: /^(Bulk delete|Delete \d|Delete all|Restore)/ }).count() === 0, 'no bulk delete or restore');
    check(await page.getByLabel('View').count() === 0, 'no deleted-tickets view');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Jobs' }).click();
    await page.getByRole('heading', { name: 'Jobs' }).waitFor();
    check(await page.getByRole('button', { name: /Cancel|Resume/ }).count() === 0, 'no Cancel, no Resume');
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
  },

  // Past 10,000 matches the API's total is an estimate: the pager says "about", Next goes
  // on, Last is off; "all matching" says about too and holds the job to no count.
  async 'estimate-about'(b) {
    const tag = env('TAG');
    const page = await signedIn(b, AGENT);
    // By its URL: the unfiltered list (past 10,000 too, newest first: these) is never shown.
    await page.goto(`${WEB_URL}/#/tickets?q=${tag}`);
    const info = page.locator('.pager-info');
    await info.filter({ hasText: /^1–20 of about [\d,]+$/ }).waitFor();
    const shown = Number((await info.textContent()).replace(/^.* of about /, '').replace(/,/g, ''));
    check(shown >= 10000 && shown <= 40000, `about ${shown} for 10,500 (within a sane factor)`);
    check(/^of about [\d,]+$/.test(await page.locator('span.pager-page').textContent()), 'the page count says about');
    check(await page.getByRole('button', { name: 'Last page' }).isDisabled(), 'no Last page for an estimate');
    await page.getByRole('button', { name: 'Next ›' }).click();
    await info.filter({ hasText: /^21–40 of about [\d,]+$/ }).waitFor();
    await page.getByLabel('Select all tickets on this page').check();
    await page.getByRole('button', { name: /^Select all about [\d,]+ matching tickets$/ }).click();
    await page.getByText(/^All about [\d,]+ matching tickets selected$/).waitFor();
    await page.getByRole('button', { name: 'Edit all', exact: true }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('heading', { name: /^Edit about [\d,]+ tickets/ }).waitFor();
    await dialog.getByText('The job changes every ticket that matches when it starts.').waitFor();
    await shot(page, 'estimate-about');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
  },

  // A phone (390 x 844): no page scrolls sideways, a row's Edit and Delete are on screen
  // and take the click, and a job item's full ticket id stays on one or two lines.
  async 'phone-width'(b) {
    const tag = env('TAG');
    const jobId = env('JOB_ID');
    const page = await signedIn(b, ADMIN);
    const W = 390, H = 844;
    await page.setViewportSize({ width: W, height: H });
    const noSideways = async (what) => {
      const [sw, cw] = await page.evaluate(() => [document.scrollingElement.scrollWidth, document.scrollingElement.clientWidth]);
      check(sw <= cw, `${what}: no sideways scroll (scrollWidth ${sw}, clientWidth ${cw})`);
    };
    await page.goto(`${WEB_URL}/#/tickets?q=${tag}`);
    await page.locator('.pager-info', { hasText: /^1–20 of (2\d|30)$/ }).waitFor();
    await noSideways('tickets list');
    const row = page.locator('tbody tr').first();
    for (const name of ['Edit', 'Delete']) {
      const btn = row.getByRole('button', { name: new RegExp(`^${name} `) });
      const box = await btn.boundingBox();
      check(box && box.x >= 0 && box.y >= 0 && box.x + box.width <= W && box.y + box.height <= H,
        `${name} within the viewport (${JSON.stringify(box)})`);
      const onTop = await btn.evaluate((el) => {
        const r = el.getBoundingClientRect();
        const top = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
        return el === top || el.contains(top);
      });
      check(onTop, `${name} takes a click at its centre`);
    }
    await shot(page, 'phone-tickets');
    await row.getByRole('button', { name: /^Edit / }).click();
    const dialog = page.getByRole('dialog', { name: 'Edit ticket' });
    await dialog.waitFor();
    await noSideways('edit dialog');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
    await row.getByRole('button', { name: /^Delete / }).click();
    const confirm = page.getByRole('dialog');
    await confirm.getByRole('heading', { name: 'Delete this ticket?' }).waitFor();
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await confirm.waitFor({ state: 'detached' });

    const id = await row.getAttribute('data-id');
    await page.goto(`${WEB_URL}/#/tickets/${id}`);
    await page.getByRole('heading', { level: 1, name: new RegExp(`^${tag} `) }).waitFor();
    await page.getByRole('heading', { name: 'History' }).waitFor();
    await noSideways('ticket page');
    await page.goto(`${WEB_URL}/#/jobs`);
    await page.locator(`tr[data-job-id="${jobId}"]`).waitFor();
    await noSideways('jobs');
    await page.goto(`${WEB_URL}/#/jobs/${jobId}`);
    const missing = page.locator('tbody span.mono[title="No such ticket"]').first();
    await missing.waitFor();
    await noSideways('job page');
    const lines = await missing.evaluate((el) => Math.round(el.getBoundingClientRect().height
      / parseFloat(getComputedStyle(el).lineHeight)));
    check(lines <= 2, `a missing ticket's id on ${lines} lines (at most 2)`);
    await shot(page, 'phone-job');
  },
};

const name = process.argv[2];
if (!scenarios[name]) {
  console.error(`usage: node run.mjs <${Object.keys(scenarios).join('|')}>`);
  process.exit(2);
}
log(`scenario ${name} on ${WEB_URL}`);
await run(name, scenarios[name]);
