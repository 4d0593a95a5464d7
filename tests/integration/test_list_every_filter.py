"""A list with every filter at once: seven filter values and the page's limit and offset are
nine parameters of one statement. Asked alone and in bursts (the workers' pipeline), with
every sort; the answer is the one SQL gives, and the workers live on.
"""
import concurrent.futures
import urllib.parse

from test_jobs import make_tickets

SORTS = ["createdAt", "-createdAt", "updatedAt", "-updatedAt", "priority", "-priority",
         "status", "-status", "subject", "-subject"]


def test_a_list_with_every_filter_answers_alone_and_in_bursts(system, admin_token):
    make_tickets(system, 6, "everyF")
    admin = system.psql("SELECT id FROM users WHERE role = 'admin' LIMIT 1")
    system.psql(f"UPDATE tickets SET priority = 'high', assignee_id = '{admin}', "
                f"requester_email = 'every@example.com' WHERE subject LIKE 'everyF %'")
    query = {"status": "open", "priority": "high", "assigneeId": admin, "q": "everyF",
             "requesterEmail": "every@example.com", "createdAfter": "2000-01-01T00:00:00Z",
             "createdBefore": "2999-01-01", "limit": "2", "page": "2"}

    def listed(sort):
        qs = urllib.parse.urlencode(dict(query, sort=sort))
        return system.request("GET", f"/api/tickets?{qs}", token=admin_token)

    status, _, body = listed("subject")
    assert status == 200, (status, body)
    assert body["total"] == 6 and [t["subject"] for t in body["data"]] == ["everyF 3", "everyF 4"]
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(listed, SORTS * 6))
        pages = list(pool.map(listed, ["subject"] * 48))
    assert all(s == 200 and b["total"] == 6 and len(b["data"]) == 2 for s, _, b in answers), \
        [(s, b) for s, _, b in answers if s != 200][:3]
    # Page 2 in a pipeline too: its offset is the ninth parameter.
    wrong = [[t["subject"] for t in b["data"]] for _, _, b in pages
             if [t["subject"] for t in b["data"]] != ["everyF 3", "everyF 4"]]
    assert not wrong, wrong[:3]
    assert system.pid("worker-1") and system.pid("worker-2"), system.log_tail()
