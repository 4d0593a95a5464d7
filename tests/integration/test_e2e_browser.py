"""End-to-end: the browser UI in Debian's headless chromium, driven by playwright-core
(tests/e2e/run.mjs), against the session's real system. Each test is one scenario; the
tickets it needs are made here in SQL, and the outcome is checked again through the API.

Never skipped: a missing chromium, node or tests/e2e/node_modules fails loudly
(`./manage.sh deps --test` installs them)."""
import json
import os
import shutil
import subprocess
import time
import uuid

from test_hub import Publisher
from test_jobs import create_job, failed_job_of, make_tickets, TERMINAL

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
E2E = os.path.join(ROOT, "tests", "e2e")
CHROMIUM = "/usr/bin/chromium"


def run_scenario(system, name, timeout=240, **extra):
    node = shutil.which("node")
    assert node, "node is missing: run ./manage.sh deps --test"
    assert os.path.exists(CHROMIUM), f"{CHROMIUM} is missing: run ./manage.sh deps --test"
    assert os.path.isdir(os.path.join(E2E, "node_modules", "playwright-core")), \
        "tests/e2e/node_modules is missing: run ./manage.sh deps --test (npm ci --prefix tests/e2e)"
    artifacts = os.path.join(system.workdir, "e2e")
    env = dict(os.environ,
               WEB_URL=f"http://127.0.0.1:{system.web_port}",
               API_URL=f"http://127.0.0.1:{system.port}",
               ARTIFACTS_DIR=artifacts,
               ADMIN_EMAIL=system.admin[0], ADMIN_PASSWORD=system.admin[1],
               AGENT_EMAIL=system.agent[0], AGENT_PASSWORD=system.agent[1],
               **{k: str(v) for k, v in extra.items()})
    r = subprocess.run([node, os.path.join(E2E, "run.mjs"), name], env=env, cwd=ROOT,
                       capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, (f"scenario {name} exited {r.returncode} (screenshots in {artifacts})\n"
                               f"stdout:\n{r.stdout}\nstderr:\n{r.stderr}\n{system.log_tail(15)}")
    return r.stdout


def latest_job(system, token):
    status, _, page = system.request("GET", "/api/jobs?limit=1", token=token)
    assert status == 200 and page["data"], page
    return page["data"][0]


def test_an_admin_bulk_deletes_500_tickets_and_watches_the_bar_reach_100(system, admin_token):
    tag = f"e2eA{uuid.uuid4().hex[:8]}"
    ids = make_tickets(system, 500, tag)
    run_scenario(system, "admin-bulk-delete", TAG=tag, COUNT=len(ids))
    job = latest_job(system, admin_token)
    assert job["status"] == "completed" and job["total"] == 500 and job["succeeded"] == 500, job
    deleted = system.psql(f"SELECT count(*) FROM tickets WHERE subject LIKE '{tag} %' "
                          "AND deleted_at IS NOT NULL")
    assert deleted == "500"


def test_an_admin_cancels_a_larger_job_from_its_live_card(system, admin_token, tmp_path):
    tag = f"e2eX{uuid.uuid4().hex[:8]}"
    ids = make_tickets(system, 150000, tag)
    ids_file = tmp_path / "ids.txt"
    ids_file.write_text("\n".join(ids))
    run_scenario(system, "admin-cancel", IDS_FILE=ids_file)
    job = latest_job(system, admin_token)
    assert job["status"] == "canceled" and job["processed"] < job["total"] == 150000, job
    # Nothing moves after the cancel.
    time.sleep(0.5)
    _, _, later = system.request("GET", f"/api/jobs/{job['id']}?itemStatus=canceled&itemsLimit=1",
                                 token=admin_token)
    assert later["status"] in TERMINAL and later["processed"] == job["processed"], later
    assert later["itemsTotal"] == 150000 - job["processed"]


def test_an_admin_resumes_a_failed_job_from_its_page(system, admin_token):
    ids = make_tickets(system, 300, f"e2eR{uuid.uuid4().hex[:8]}")
    job_id, _ = failed_job_of(system, ids)
    run_scenario(system, "admin-resume", JOB_ID=job_id, COUNT=len(ids))
    status, _, job = system.request("GET", f"/api/jobs/{job_id}?itemsLimit=1", token=admin_token)
    assert status == 200 and job["status"] == "completed" and job["succeeded"] == 300, job


def test_an_admin_creates_edits_deletes_and_restores_a_ticket_then_an_expired_token_logs_out(system):
    tag = f"e2eC{uuid.uuid4().hex[:8]}"
    run_scenario(system, "tickets-crud", TAG=tag)
    rows = system.psql(f"SELECT status, priority, deleted_at IS NULL FROM tickets WHERE subject LIKE '{tag} %'")
    assert rows == "resolved|urgent|t", rows


def test_an_agent_may_bulk_edit_but_sees_no_admin_action(system):
    run_scenario(system, "agent-no-bulk")


def test_an_admin_deletes_every_ticket_matching_a_filter_then_undoes_it_from_the_toast(system, admin_token):
    """1,200 open tickets and 30 pending ones share a tag; the list filtered by the tag and
    Open deletes exactly the 1,200 through one filter job, and Undo restores exactly them."""
    tag = f"e2eF{uuid.uuid4().hex[:8]}"
    ids = make_tickets(system, 1200, tag)
    system.psql(f"""INSERT INTO tickets (subject, requester_email, status)
                    SELECT '{tag}p ' || g, 'bulk@example.com', 'pending' FROM generate_series(1, 30) g""")
    run_scenario(system, "filter-delete-undo", TAG=tag, COUNT=len(ids))
    _, _, deletes = system.request("GET", "/api/jobs?type=bulk-delete&limit=1", token=admin_token)
    delete = deletes["data"][0]
    assert delete["filter"] == {"status": "open", "q": tag} and delete["expectedTotal"] == 1200, delete
    assert (delete["status"], delete["total"], delete["succeeded"]) == ("completed", 1200, 1200), delete
    _, _, restores = system.request("GET", "/api/jobs?type=bulk-restore&limit=1", token=admin_token)
    restore = restores["data"][0]
    assert restore["sourceJobId"] == delete["id"], restore
    assert (restore["status"], restore["total"], restore["succeeded"]) == ("completed", 1200, 1200), restore
    _, _, live = system.request("GET", f"/api/tickets?q={tag}&status=open&limit=1", token=admin_token)
    assert live["total"] == 1200, live
    # The pending ones matched the search but not the status: never touched.
    untouched = system.psql(f"SELECT count(*) FROM tickets WHERE subject LIKE '{tag}p %' "
                            "AND deleted_at IS NULL AND version = 1")
    assert untouched == "30", untouched


def test_an_admin_restores_picked_then_all_matching_tickets_in_the_deleted_view(system, admin_token):
    tag = f"e2eD{uuid.uuid4().hex[:8]}"
    ids = make_tickets(system, 150, tag)
    # Deleted one second apart, so that the Deleted column orders them.
    system.psql(f"UPDATE tickets SET deleted_at = now() - split_part(subject, ' ', 2)::int * interval '1 s' "
                f"WHERE subject LIKE '{tag} %'")
    run_scenario(system, "deleted-restore", TAG=tag, COUNT=len(ids))
    _, _, jobs = system.request("GET", "/api/jobs?type=bulk-restore&limit=2", token=admin_token)
    by_filter, by_ids = jobs["data"]
    assert by_ids["filter"] is None and by_ids["succeeded"] == 2, by_ids
    assert by_filter["filter"] == {"q": tag} and by_filter["expectedTotal"] == 148, by_filter
    assert (by_filter["status"], by_filter["succeeded"]) == ("completed", 148), by_filter
    deleted = system.psql(f"SELECT count(*) FROM tickets WHERE subject LIKE '{tag} %' AND deleted_at IS NOT NULL")
    assert deleted == "0", deleted


def test_an_agent_bulk_edits_the_status_and_assignee_of_a_selection(system, agent_token):
    tag = f"e2eU{uuid.uuid4().hex[:8]}"
    ids = make_tickets(system, 5, tag)
    out = run_scenario(system, "bulk-edit", TAG=tag)
    edited = next(line.split("EDITED ", 1)[1] for line in out.splitlines() if "EDITED " in line).split(",")
    assert len(edited) == 3 and set(edited) <= set(ids), edited
    agent = system.psql(f"SELECT id FROM users WHERE lower(email) = lower('{system.agent[0]}')")
    _, _, jobs = system.request("GET", "/api/jobs?type=bulk-update&limit=1", token=agent_token)
    job = jobs["data"][0]
    assert job["set"] == {"status": "pending", "assigneeId": agent} and job["createdBy"] == agent, job
    assert (job["status"], job["total"], job["succeeded"]) == ("completed", 3, 3), job
    for tid in ids:
        status, _, t = system.request("GET", f"/api/tickets/{tid}", token=agent_token)
        assert status == 200, t
        want = ("pending", agent) if tid in edited else ("open", None)
        assert (t["status"], t["assigneeId"]) == want, (tid, t)


def one_ticket_through(system, token, scenario, tag):
    """Runs scenario on one new ticket tagged tag (it prints "TICKET <id>"); returns the
    ticket as the API reads it afterwards."""
    make_tickets(system, 1, tag)
    out = run_scenario(system, scenario, TAG=tag)
    tid = next(line.split("TICKET ", 1)[1] for line in out.splitlines() if "TICKET " in line).strip()
    status, _, t = system.request("GET", f"/api/tickets/{tid}", token=token)
    assert status == 200, t
    return t


def test_an_edit_that_meets_another_tabs_save_keeps_the_typed_text_and_merges(system, admin_token):
    tag = f"e2eK{uuid.uuid4().hex[:8]}"
    t = one_ticket_through(system, admin_token, "edit-conflict", tag)
    assert (t["subject"], t["priority"], t["version"]) == (f"{tag} mine", "high", 3), t
    assert t["description"] == "A long description typed here\nover two lines.", t


def test_one_session_serves_every_tab_and_an_expiry_mid_edit_keeps_the_text(system, admin_token):
    tag = f"e2eS{uuid.uuid4().hex[:8]}"
    t = one_ticket_through(system, admin_token, "session-tabs", tag)
    assert (t["subject"], t["description"]) == (f"{tag} typed before the expiry", "kept over a sign-in"), t


def test_the_lists_filters_sort_and_page_survive_a_reload_and_can_be_shared(system):
    tag = f"e2eL{uuid.uuid4().hex[:8]}"
    ids = make_tickets(system, 60, tag)
    run_scenario(system, "url-state", TAG=tag, COUNT=len(ids))


def test_with_the_edge_stopped_the_badge_and_the_toasts_say_the_server_is_unreachable(system, tmp_path):
    env_file = tmp_path / "system-env.json"
    env_file.write_text(json.dumps(system.env))
    try:
        run_scenario(system, "server-down", SYSTEM_ENV_FILE=env_file)
    finally:
        system.ensure_up()
        system.wait_healthy()


def test_the_form_marks_required_fields_words_its_errors_and_asks_before_escape_discards(system):
    run_scenario(system, "validation")


def test_priority_sorts_most_urgent_first_and_first_last_and_a_page_jump_move(system):
    tag = f"e2eP{uuid.uuid4().hex[:8]}"
    ids = make_tickets(system, 60, tag)
    system.psql(f"UPDATE tickets SET priority = 'urgent' WHERE id = '{ids[6]}'")
    system.psql(f"UPDATE tickets SET priority = 'low' WHERE id = '{ids[7]}'")
    run_scenario(system, "paging-sort", TAG=tag, COUNT=len(ids))


def test_keyboard_shortcuts_and_a_dark_mode_that_follows_the_system(system):
    tag = f"e2eY{uuid.uuid4().hex[:8]}"
    ids = make_tickets(system, 45, tag)
    run_scenario(system, "keyboard-dark", TAG=tag, COUNT=len(ids))


def test_a_running_job_on_screen_whose_events_are_lost_is_read_again_over_rest(system, admin_token):
    """The page's socket is open but carries nothing; the job (running, with no chunks, so
    only the cancel ends it) is canceled through the API; the page shows it within 12 s."""
    admin = system.psql(f"SELECT id FROM users WHERE lower(email) = lower('{system.admin[0]}')")
    job = system.psql(f"INSERT INTO jobs (id, type, status, total, chunks_total, created_by, "
                      f"started_at) VALUES ('{uuid.uuid4()}', 'bulk-delete', 'running', 10, 0, "
                      f"'{admin}', now()) RETURNING id")
    out = run_scenario(system, "silent-socket", JOB_ID=job)
    print([line for line in out.splitlines() if "showed the cancel" in line])
    _, _, got = system.request("GET", f"/api/jobs/{job}", token=admin_token)
    assert got["status"] == "canceled", got


def test_a_live_card_for_a_job_the_api_does_not_know_goes_away(system, admin_token):
    ghost = str(uuid.uuid4())
    pub = Publisher(system)
    try:
        # Kept by the hub as a running job: the page gets it in its snapshot on connect.
        pub.send("progress", ghost, system.psql("SELECT id FROM users WHERE role = 'admin' LIMIT 1"),
                 processed=10)
        run_scenario(system, "ghost-card", JOB_ID=ghost)
    finally:
        pub.close()


def test_a_list_past_10000_matches_says_about_and_its_pager_still_moves(system):
    tag = f"e2eE{uuid.uuid4().hex[:8]}"
    make_tickets(system, 10500, tag)
    run_scenario(system, "estimate-about", TAG=tag)


def test_at_phone_width_no_page_scrolls_sideways_and_row_actions_are_reachable(system, admin_token):
    tag = f"e2eW{uuid.uuid4().hex[:8]}"
    ids = make_tickets(system, 30, tag)
    # Two of them and one id that is no ticket: an item that shows the whole id.
    job, _ = create_job(system, admin_token, ids[-2:] + [str(uuid.uuid4())])
    run_scenario(system, "phone-width", TAG=tag, JOB_ID=job["id"])
