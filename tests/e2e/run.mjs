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
};

const name = process.argv[2];
if (!scenarios[name]) {
  console.error(`usage: node run.mjs <${Object.keys(scenarios).join('|')}>`);
  process.exit(2);
}
log(`scenario ${name} on ${WEB_URL}`);
await run(name, scenarios[name]);
