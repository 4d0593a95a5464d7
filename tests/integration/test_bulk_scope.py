"""Bulk work by filter, its undo and bulk edit, over real HTTP (sql/0009_bulk_scope.sql,
workers/jobscope.c): snapshots, expectedTotal, exact outcomes per type, idempotency,
permissions, a worker killed mid-job; and each ticket's history, the users list and the
list's new filters."""
import os
import time
import uuid

import pytest

from conftest import error_of
from test_jobs import assert_exact, end_job, make_tickets, queued_job, wait_terminal


def post_job(system, token, body, expect=202, key=None):
    headers = {"Idempotency-Key": key} if key else {}
    status, _, job = system.request("POST", "/api/jobs", body, token=token, headers=headers)
    assert status == expect, f"expected {expect}, got {status}: {job}"
    return job


def live_count(system, tag):
    return int(system.psql(f"SELECT count(*) FROM tickets WHERE subject LIKE '{tag} %'"
                           " AND deleted_at IS NULL"))


def tag():
    return "scope-" + uuid.uuid4().hex[:10]


def test_a_filter_delete_answers_at_once_then_deletes_exactly_what_matched(system, admin_token):
    t = tag()
    make_tickets(system, 1200, t)
    # Created "later" than the job: a ticket the snapshot must not touch.
    system.psql(f"INSERT INTO tickets (subject, requester_email, created_at)"
                f" VALUES ('{t} late', 'late@example.com', now() + interval '1 hour')")
    job = post_job(system, admin_token, {"type": "bulk-delete",
                                         "payload": {"filter": {"q": t}, "expectedTotal": 1200}})
    assert job["status"] == "queued" and job["total"] is None and job["progress"] == 0, job
    assert job["filter"] == {"q": t} and job["expectedTotal"] == 1200, job
    done = wait_terminal(system, admin_token, job["id"])
    assert (done["status"], done["total"], done["succeeded"], done["failed"]) == \
        ("completed", 1200, 1200, 0), done
    assert live_count(system, t) == 1, "exactly the late ticket stays"
    assert_exact(system, job["id"])
    # The plan chunk went out with the 202, not after its lease ran out (a re-send).
    logdir = os.path.join(system.env["VAR_DIR"], "log")
    for name in os.listdir(logdir):
        with open(os.path.join(logdir, name), errors="replace") as f:
            resent = [l for l in f if "event=chunk_resent" in l and job["id"] in l]
        assert not resent, resent


def test_a_filter_that_grew_past_expected_total_fails_and_touches_nothing(system, admin_token):
    t = tag()
    make_tickets(system, 30, t)
    job = post_job(system, admin_token, {"type": "bulk-delete",
                                         "payload": {"filter": {"q": t}, "expectedTotal": 29}})
    done = wait_terminal(system, admin_token, job["id"])
    assert done["status"] == "failed" and done["error"]["code"] == "filter_changed", done
    assert "30" in done["error"]["message"], done
    assert live_count(system, t) == 30


def test_a_job_failed_by_its_expected_total_resumes_by_expanding_its_filter_again(system, admin_token):
    """Resume runs what the job had not reached, and such a job had not reached its plan:
    it runs again unplanned, fails again while the filter still matches too many, and runs
    once it matches no more than expectedTotal (it was made 'completed' at once, deleting
    nothing, its error gone)."""
    t = tag()
    make_tickets(system, 30, t)
    job = post_job(system, admin_token, {"type": "bulk-delete",
                                         "payload": {"filter": {"q": t}, "expectedTotal": 29}})
    assert wait_terminal(system, admin_token, job["id"])["error"]["code"] == "filter_changed"
    status, _, again = system.request("POST", f"/api/jobs/{job['id']}/resume", token=admin_token)
    assert status == 200, (status, again)
    assert (again["status"], again["total"], again["error"]) == ("running", None, None), again
    done = wait_terminal(system, admin_token, job["id"])
    assert done["status"] == "failed" and done["error"]["code"] == "filter_changed", done
    assert live_count(system, t) == 30, "a failed plan touches nothing"

    # One ticket goes by other means: the filter now matches 29, within expectedTotal.
    system.psql(f"UPDATE tickets SET deleted_at = now() WHERE id = (SELECT id FROM tickets"
                f" WHERE subject LIKE '{t} %' AND deleted_at IS NULL LIMIT 1)")
    status, _, again = system.request("POST", f"/api/jobs/{job['id']}/resume", token=admin_token)
    assert status == 200 and again["status"] == "running", (status, again)
    done = wait_terminal(system, admin_token, job["id"])
    assert (done["status"], done["total"], done["succeeded"], done["failed"], done["error"]) == \
        ("completed", 29, 29, 0, None), done
    assert live_count(system, t) == 0
    assert_exact(system, job["id"])


def test_a_filter_matching_nothing_completes_with_total_zero(system, admin_token):
    job = post_job(system, admin_token, {"type": "bulk-delete",
                                         "payload": {"filter": {"q": tag()}, "expectedTotal": 0}})
    done = wait_terminal(system, admin_token, job["id"])
    assert (done["status"], done["total"], done["progress"]) == ("completed", 0, 100), done


def test_undo_restores_what_the_delete_deleted_and_a_second_undo_fails_per_item(system, admin_token):
    t = tag()
    ids = make_tickets(system, 250, t)
    system.psql(f"UPDATE tickets SET deleted_at = now() WHERE id = '{ids[0]}'")   # already gone
    delete = post_job(system, admin_token, {"type": "bulk-delete", "payload": {"ticketIds": ids}})
    assert wait_terminal(system, admin_token, delete["id"])["succeeded"] == 249
    undo = post_job(system, admin_token, {"type": "bulk-restore",
                                          "payload": {"jobId": delete["id"]}})
    assert undo["sourceJobId"] == delete["id"], undo
    done = wait_terminal(system, admin_token, undo["id"])
    assert (done["status"], done["total"], done["succeeded"]) == ("completed", 249, 249), done
    assert live_count(system, t) == 249, "the ticket deleted before the job stays deleted"
    again = wait_terminal(system, admin_token, post_job(
        system, admin_token, {"type": "bulk-restore", "payload": {"jobId": delete["id"]}})["id"])
    assert (again["succeeded"], again["failed"]) == (0, 249), again
    status, _, page = system.request("GET", f"/api/jobs/{again['id']}?itemsLimit=2", token=admin_token)
    assert status == 200 and page["items"][0]["error"]["code"] == "not_deleted", page
    assert page["items"][0]["subject"].startswith(t), page


def test_restore_by_filter_matches_deleted_tickets_only(system, admin_token):
    t = tag()
    ids = make_tickets(system, 40, t)
    system.psql(f"UPDATE tickets SET deleted_at = now() WHERE id IN ('{ids[0]}', '{ids[1]}')")
    job = post_job(system, admin_token, {"type": "bulk-restore",
                                         "payload": {"filter": {"q": t}, "expectedTotal": 2}})
    done = wait_terminal(system, admin_token, job["id"])
    assert (done["status"], done["total"], done["succeeded"]) == ("completed", 2, 2), done
    assert live_count(system, t) == 40


def test_bulk_update_sets_fields_once_and_reports_each_item(system, admin_token, agent_token):
    t = tag()
    ids = make_tickets(system, 5, t)
    system.psql(f"UPDATE tickets SET deleted_at = now() WHERE id = '{ids[4]}'")
    agent_id = system.psql("SELECT id FROM users WHERE role = 'agent' ORDER BY email LIMIT 1")
    body = {"type": "bulk-update", "payload": {
        "ticketIds": ids + [str(uuid.uuid4())],
        "set": {"status": "pending", "priority": "high", "assigneeId": agent_id}}}
    job = post_job(system, agent_token, body)            # agents may edit in bulk
    done = wait_terminal(system, agent_token, job["id"])
    assert (done["succeeded"], done["failed"]) == (4, 2), done
    assert done["set"] == body["payload"]["set"], done
    rows = system.psql(f"SELECT DISTINCT status || priority || assignee_id || version FROM tickets"
                       f" WHERE id IN ('{ids[0]}', '{ids[1]}', '{ids[2]}', '{ids[3]}')")
    assert rows == f"pendinghigh{agent_id}2", rows
    status, _, page = system.request("GET", f"/api/jobs/{job['id']}?itemStatus=failed", token=agent_token)
    assert sorted(i["error"]["code"] for i in page["items"]) == ["deleted", "not_found"], page
    # The same set again changes nothing: every item succeeds, no version rises.
    again = wait_terminal(system, agent_token, post_job(system, agent_token, body)["id"])
    assert again["succeeded"] == 4
    assert system.psql(f"SELECT max(version) FROM tickets WHERE id = '{ids[0]}'") == "2"


def test_bulk_update_by_filter_with_unassign(system, admin_token):
    t = tag()
    make_tickets(system, 60, t)
    agent_id = system.psql("SELECT id FROM users WHERE role = 'agent' ORDER BY email LIMIT 1")
    system.psql(f"UPDATE tickets SET assignee_id = '{agent_id}' WHERE subject LIKE '{t} %'")
    job = post_job(system, admin_token, {"type": "bulk-update", "payload": {
        "filter": {"q": t, "assigneeId": agent_id}, "set": {"assigneeId": None}}})
    done = wait_terminal(system, admin_token, job["id"])
    assert (done["total"], done["succeeded"]) == (60, 60), done
    status, _, page = system.request("GET", f"/api/tickets?q={t}&assigneeId=none&limit=1",
                                     token=admin_token)
    assert status == 200 and page["total"] == 60, page


@pytest.mark.parametrize("body,field", [
    ({"type": "bulk-delete", "payload": {"filter": {"colour": "red"}}}, "payload.filter.colour"),
    ({"type": "bulk-delete", "payload": {"filter": {"status": "gone"}}}, "payload.filter.status"),
    ({"type": "bulk-delete", "payload": {"filter": {}, "ticketIds": [str(uuid.uuid4())]}}, "payload"),
    ({"type": "bulk-delete", "payload": {"jobId": str(uuid.uuid4())}}, "payload.jobId"),
    ({"type": "bulk-delete", "payload": {"filter": {}, "set": {"status": "open"}}}, "payload.set"),
    ({"type": "bulk-update", "payload": {"filter": {}}}, "payload.set"),
    ({"type": "bulk-update", "payload": {"filter": {}, "set": {"subject": "x"}}}, "payload.set.subject"),
    ({"type": "bulk-update", "payload": {"filter": {}, "set": {"assigneeId": str(uuid.uuid4())}}},
     "payload.set.assigneeId"),
    ({"type": "bulk-restore", "payload": {"jobId": str(uuid.uuid4())}}, "payload.jobId"),
    ({"type": "bulk-delete", "payload": {"filter": {}, "expectedTotal": -1}}, "payload.expectedTotal"),
    ({"type": "bulk-delete", "payload": {"filter": []}}, "payload.filter"),
    # A null would read as "no filter" and match every ticket.
    ({"type": "bulk-delete", "payload": {"filter": {"assigneeId": None}}}, "payload.filter.assigneeId"),
    ({"type": "bulk-update", "payload": {"filter": {"q": None}, "set": {"status": "open"}}},
     "payload.filter.q"),
    ({"type": "bulk-update", "payload": {"filter": {}, "set": {"status": "gone"}}}, "payload.set.status"),
    ({"type": "bulk-delete", "payload": {"filter": {}, "expectedTotal": 2 ** 40}},
     "payload.expectedTotal"),
])
def test_bad_scopes_are_422_naming_the_field(system, admin_token, body, field):
    status, _, resp = system.request("POST", "/api/jobs", body, token=admin_token)
    assert status == 422, resp
    assert field in {d["field"] for d in error_of(resp)["details"]}, resp


def test_agents_may_not_delete_or_restore_in_bulk(system, agent_token):
    for body in ({"type": "bulk-delete", "payload": {"filter": {}}},
                 {"type": "bulk-restore", "payload": {"jobId": str(uuid.uuid4())}}):
        status, _, resp = system.request("POST", "/api/jobs", body, token=agent_token)
        assert status == 403, resp
    # A body without a known type is the body's fault (422), for an agent as for an admin.
    for body in ({}, {"type": "bulk-archive", "payload": {"filter": {}}}):
        status, _, resp = system.request("POST", "/api/jobs", body, token=agent_token)
        assert status == 422 and "type" in {d["field"] for d in error_of(resp)["details"]}, resp


def test_an_undo_of_a_job_still_running_is_409(system, admin_token):
    job_id, _ = queued_job(system)
    try:
        status, _, resp = system.request("POST", "/api/jobs", {
            "type": "bulk-restore", "payload": {"jobId": job_id}}, token=admin_token)
        assert status == 409 and error_of(resp)["code"] == "job_not_finished", resp
    finally:
        end_job(system, job_id)


def test_an_undo_leaves_alone_a_ticket_deleted_again_since(system, admin_token):
    ids = make_tickets(system, 3, tag())
    delete = post_job(system, admin_token, {"type": "bulk-delete", "payload": {"ticketIds": ids}})
    wait_terminal(system, admin_token, delete["id"])
    undo = {"type": "bulk-restore", "payload": {"jobId": delete["id"]}}
    assert wait_terminal(system, admin_token, post_job(system, admin_token, undo)["id"])["succeeded"] == 3
    # Someone deletes one of them again, on its own: that deletion is not the job's to undo.
    assert system.request("DELETE", f"/api/tickets/{ids[0]}", token=admin_token)[0] == 204
    again = wait_terminal(system, admin_token, post_job(system, admin_token, undo)["id"])
    assert (again["succeeded"], again["failed"]) == (0, 3), again
    _, _, page = system.request("GET", f"/api/jobs/{again['id']}", token=admin_token)
    codes = {i["ticketId"]: i["error"]["code"] for i in page["items"]}
    assert codes == {ids[0]: "changed_since", ids[1]: "not_deleted", ids[2]: "not_deleted"}, codes
    assert system.psql(f"SELECT deleted_at IS NOT NULL FROM tickets WHERE id = '{ids[0]}'") == "t"


def test_an_agent_sees_no_subject_of_a_deleted_ticket_in_its_job(system, admin_token, agent_token):
    t = tag()
    ids = make_tickets(system, 2, t)
    system.psql(f"UPDATE tickets SET deleted_at = now() WHERE id = '{ids[0]}'")
    job = post_job(system, agent_token, {"type": "bulk-update", "payload": {
        "ticketIds": ids, "set": {"priority": "low"}}})
    wait_terminal(system, agent_token, job["id"])
    _, _, page = system.request("GET", f"/api/jobs/{job['id']}", token=agent_token)
    subjects = {i["ticketId"]: i["subject"] for i in page["items"]}
    assert subjects[ids[0]] is None and subjects[ids[1]].startswith(t), subjects
    _, _, page = system.request("GET", f"/api/jobs/{job['id']}", token=admin_token)
    assert all(i["subject"] for i in page["items"]), page["items"]


def test_a_filter_job_replays_by_key_and_refuses_another_filter_under_it(system, admin_token):
    key = uuid.uuid4().hex
    body = {"type": "bulk-delete", "payload": {"filter": {"q": tag()}}}
    first = post_job(system, admin_token, body, key=key)
    assert post_job(system, admin_token, body, expect=200, key=key)["id"] == first["id"]
    other = {"type": "bulk-delete", "payload": {"filter": {"q": tag()}}}
    status, _, resp = system.request("POST", "/api/jobs", other, token=admin_token,
                                     headers={"Idempotency-Key": key})
    assert status == 422 and error_of(resp)["code"] == "idempotency_key_reused", resp


def test_a_worker_killed_while_a_filter_job_runs_loses_and_doubles_nothing(system, admin_token):
    t = tag()
    make_tickets(system, 20000, t)
    job = post_job(system, admin_token, {"type": "bulk-delete", "payload": {"filter": {"q": t}}})
    time.sleep(0.05)
    system.kill("worker-1")
    done = wait_terminal(system, admin_token, job["id"], timeout=120)
    assert (done["status"], done["total"], done["succeeded"]) == ("completed", 20000, 20000), done
    assert live_count(system, t) == 0
    assert_exact(system, job["id"])


def test_cancel_during_a_filter_job_stops_it(system, admin_token):
    t = tag()
    make_tickets(system, 20000, t)
    job = post_job(system, admin_token, {"type": "bulk-delete", "payload": {"filter": {"q": t}}})
    status, _, body = system.request("POST", f"/api/jobs/{job['id']}/cancel", token=admin_token)
    assert status in (200, 409), body
    done = wait_terminal(system, admin_token, job["id"])
    if status == 200:
        assert done["status"] == "canceled", done
        assert live_count(system, t) == 20000 - done["succeeded"]
    assert_exact(system, job["id"]) if done["total"] else None


def test_history_records_every_change_with_who_and_which_job(system, admin_token):
    t = tag()
    status, _, ticket = system.request("POST", "/api/tickets", {
        "subject": f"{t} one", "requesterEmail": "h@example.com"}, token=admin_token)
    assert status == 201, ticket
    tid = ticket["id"]
    path = f"/api/tickets/{tid}"
    assert system.request("PUT", path, {"status": "pending"}, token=admin_token)[0] == 200
    # A PUT that changes nothing writes nothing: same version, no history entry.
    status, _, same = system.request("PUT", path, {"status": "pending"}, token=admin_token)
    assert status == 200 and same["version"] == 2, same
    delete = post_job(system, admin_token, {"type": "bulk-delete", "payload": {"ticketIds": [tid]}})
    wait_terminal(system, admin_token, delete["id"])
    undo = post_job(system, admin_token, {"type": "bulk-restore", "payload": {"jobId": delete["id"]}})
    wait_terminal(system, admin_token, undo["id"])
    status, _, hist = system.request("GET", f"{path}/history", token=admin_token)
    assert status == 200, hist
    assert [(e["action"], e["jobId"]) for e in hist["data"]] == [
        ("created", None), ("updated", None), ("deleted", delete["id"]), ("restored", undo["id"])]
    assert hist["data"][1]["changes"] == {"status": {"from": "open", "to": "pending"}}, hist
    assert hist["data"][0]["actor"]["name"] and hist["total"] == 4
    assert system.request("GET", f"/api/tickets/{uuid.uuid4()}/history", token=admin_token)[0] == 404
    status, _, bad = system.request("GET", f"{path}/history?limit=0", token=admin_token)
    assert status == 422, bad


def test_users_are_listed_for_the_assignee_picker(system, agent_token):
    status, _, users = system.request("GET", "/api/users?limit=200", token=agent_token)
    assert status == 200 and users["total"] >= 2, users
    assert {"id", "name", "email", "role"} == set(users["data"][0]), users
    needle = users["data"][0]["email"][:4].upper()
    status, _, some = system.request("GET", f"/api/users?q={needle}", token=agent_token)
    assert status == 200 and some["data"], some
    assert all(needle.lower() in (u["email"] + u["name"]).lower() for u in some["data"])
    assert system.request("GET", "/api/users?limit=500", token=agent_token)[0] == 422
    assert system.request("GET", "/api/users")[0] == 401


def test_the_list_filters_by_requester_email_and_sorts_by_deleted_at(system, admin_token):
    t = tag()
    ids = make_tickets(system, 3, t)
    system.psql(f"UPDATE tickets SET requester_email = 'Mixed.Case@Example.com' WHERE id = '{ids[0]}'")
    status, _, page = system.request("GET", "/api/tickets?requesterEmail=mixed.case@example.com",
                                     token=admin_token)
    assert status == 200 and [x["id"] for x in page["data"]] == [ids[0]], page
    # Compared whole: a short address is no error, it matches nothing.
    status, _, page = system.request("GET", "/api/tickets?requesterEmail=ab", token=admin_token)
    assert status == 200 and page["total"] == 0, page
    system.psql(f"UPDATE tickets SET deleted_at = now() - interval '1 day' WHERE id = '{ids[1]}'")
    system.psql(f"UPDATE tickets SET deleted_at = now() WHERE id = '{ids[2]}'")
    status, _, page = system.request("GET", f"/api/tickets?q={t}&deleted=only&sort=-deletedAt",
                                     token=admin_token)
    assert status == 200 and [x["id"] for x in page["data"]] == [ids[2], ids[1]], page


def test_an_agent_cancels_its_own_job_and_nobody_else_s(system, admin_token, agent_token):
    t = tag()
    make_tickets(system, 20000, t)
    own = post_job(system, agent_token, {"type": "bulk-update", "payload": {
        "filter": {"q": t}, "set": {"priority": "low"}}})
    status, _, body = system.request("POST", f"/api/jobs/{own['id']}/cancel", token=agent_token)
    assert status in (200, 409), body                   # 409: it finished first
    theirs = post_job(system, admin_token, {"type": "bulk-update", "payload": {
        "filter": {"q": tag()}, "set": {"priority": "low"}}})
    status, _, body = system.request("POST", f"/api/jobs/{theirs['id']}/cancel", token=agent_token)
    assert status == 404, body
    status, _, body = system.request("POST", f"/api/jobs/{own['id']}/resume", token=agent_token)
    assert status == 403, body


def test_the_list_and_a_job_filter_by_created_range_and_search_the_requester(system, admin_token):
    t = tag()
    ids = make_tickets(system, 3, t)
    # Ticket n of the three was created on 2020-01-0n at noon UTC.
    system.psql(f"UPDATE tickets SET created_at = timestamptz '2020-01-01T12:00:00Z'"
                f" + (right(subject, 1)::int - 1) * interval '1 day' WHERE subject LIKE '{t} %'")
    page = lambda q: system.request("GET", f"/api/tickets?q={t}&{q}", token=admin_token)
    status, _, got = page("createdAfter=2020-01-02&createdBefore=2020-01-03T12:00:00Z")
    assert status == 200 and got["total"] == 1, got
    status, _, got = page("createdAfter=2020-01-02T12:00:00%2B00:00")
    assert status == 200 and got["total"] == 2, got
    status, _, bad = page("createdAfter=2020-02-30")
    assert status == 422 and error_of(bad)["details"][0]["field"] == "createdAfter", bad
    # q finds a requester's address as well as the subject and description.
    system.psql(f"UPDATE tickets SET requester_email = '{t}@requester.example' WHERE id = '{ids[0]}'")
    status, _, got = system.request("GET", f"/api/tickets?q={t}%40requester", token=admin_token)
    assert status == 200 and [x["id"] for x in got["data"]] == [ids[0]], got
    job = post_job(system, admin_token, {"type": "bulk-update", "payload": {
        "filter": {"q": t, "createdBefore": "2020-01-02"}, "set": {"priority": "urgent"}}})
    done = wait_terminal(system, admin_token, job["id"])
    assert (done["total"], done["succeeded"]) == (1, 1), done

