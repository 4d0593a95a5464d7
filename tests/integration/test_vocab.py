"""The vocabulary is defined once in C (proto/vocab.h) and once in the schema (sql/, as CHECK
constraints), since schema lives only in sql/. These tests hold the two together on the
running system: the CHECKs as PostgreSQL reports them (pg_constraint) against the lists and
limits the edge serves at GET /api/meta, and the columns' DEFAULTs against the served
defaults. Changing one side alone fails here. Also: the OpenAPI enums say the same, and
web/js spells none of the lists, sorts, filters or defaults itself."""
import os
import re

import pytest
import yaml

from conftest import ROOT


def meta(system):
    status, _, body = system.request("GET", "/api/meta")
    assert status == 200, f"GET /api/meta: expected 200, got {status} {body!r}"
    return body


def checks(system, table):
    """{constraint name: definition} of table's CHECK constraints."""
    rows = system.psql(
        "SELECT conname || '|' || pg_get_constraintdef(oid) FROM pg_constraint "
        f"WHERE conrelid = '{table}'::regclass AND contype = 'c' ORDER BY conname")
    return dict(line.split("|", 1) for line in rows.splitlines() if line)


def listed(definition):
    """The text literals of `col = ANY (ARRAY['a'::text, ...])`, in order."""
    return re.findall(r"'([^']*)'::text", definition)


def length_bounds(definition, column):
    """(min, max) of `length(column) >= N AND length(column) <= M` (min None if absent)."""
    low = re.search(rf"length\({column}\) >= (\d+)", definition)
    high = re.search(rf"length\({column}\) <= (\d+)", definition)
    assert high, f"no upper length bound for {column} in {definition!r}"
    return (int(low.group(1)) if low else None), int(high.group(1))


@pytest.mark.parametrize("table, constraint, key", [
    ("tickets", "tickets_status_check", "ticketStatuses"),
    ("tickets", "tickets_priority_check", "ticketPriorities"),
    ("jobs", "jobs_status_check", "jobStatuses"),
    ("jobs", "jobs_type_check", "jobTypes"),
])
def test_each_list_check_is_the_served_list(system, table, constraint, key):
    served = meta(system)[key]
    in_sql = listed(checks(system, table)[constraint])
    assert sorted(in_sql) == sorted(served), f"sql {constraint}: {in_sql}, proto/vocab.h {key}: {served}"


def test_ticket_length_checks_are_the_served_limits(system):
    limits = meta(system)["limits"]
    defs = checks(system, "tickets")
    got = {
        "subject": length_bounds(defs["tickets_subject_check"], "subject"),
        "description": length_bounds(defs["tickets_description_check"], "description"),
        "requester_email": length_bounds(defs["tickets_requester_email_check"], "requester_email"),
    }
    want = {
        "subject": (1, limits["subjectMax"]),
        "description": (None, limits["descriptionMax"]),
        "requester_email": (limits["emailMin"], limits["emailMax"]),
    }
    assert got == want, f"sql CHECKs: {got}, proto/vocab.h: {want}"


def test_the_ticket_columns_default_to_the_served_defaults(system):
    defaults = meta(system)["defaults"]
    got = {}
    for column in ("status", "priority"):
        text = system.psql("SELECT column_default FROM information_schema.columns "
                           f"WHERE table_name = 'tickets' AND column_name = '{column}'")
        got[column] = listed(text)
    want = {"status": [defaults["ticketStatus"]], "priority": [defaults["ticketPriority"]]}
    assert got == want, f"sql DEFAULTs: {got}, proto/vocab.h: {want}"


def test_the_list_query_documents_the_served_sorts_filters_and_defaults(system):
    served = meta(system)
    with open(os.path.join(ROOT, "docs", "openapi.yaml"), encoding="utf-8") as f:
        params = {p["name"]: p["schema"] for p in
                  yaml.safe_load(f)["paths"]["/api/tickets"]["get"]["parameters"] if "name" in p}
    sorts = [v for s in served["ticketSorts"] for v in (s, "-" + s)]
    assert params["sort"]["enum"] == sorts, (params["sort"], sorts)
    assert params["sort"]["default"] == served["defaults"]["ticketSort"]
    assert params["deleted"]["enum"] == served["ticketDeleted"], params["deleted"]
    assert params["deleted"]["default"] == served["defaults"]["ticketDeleted"]


def test_the_openapi_enums_are_the_served_lists(system):
    served = meta(system)
    with open(os.path.join(ROOT, "docs", "openapi.yaml"), encoding="utf-8") as f:
        schemas = yaml.safe_load(f)["components"]["schemas"]
    pairs = {"TicketStatus": "ticketStatuses", "TicketPriority": "ticketPriorities",
             "JobStatus": "jobStatuses", "JobItemStatus": "jobItemStatuses", "JobType": "jobTypes"}
    for schema, key in pairs.items():
        assert schemas[schema]["enum"] == served[key], (
            f"docs/openapi.yaml {schema}: {schemas[schema]['enum']}, served {key}: {served[key]}")


def web_js_lines(pattern):
    """Every line of web/js matching pattern, as "file:line: text"."""
    found = []
    folder = os.path.join(ROOT, "web", "js")
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name), encoding="utf-8") as f:
            found += [f"web/js/{name}:{n}: {line.strip()}"
                      for n, line in enumerate(f, 1) if pattern.search(line)]
    return found


def test_web_js_spells_no_list_of_the_vocabulary():
    """Two neighbours of one of the lists in a row are a copy the UI should not keep."""
    offenders = web_js_lines(re.compile(r"'open',\s*'pending'|'low',\s*'normal'"
                                        r"|'queued',\s*'running'|'pending',\s*'succeeded'"))
    assert not offenders, "lists to take from GET /api/meta instead:\n" + "\n".join(offenders)


def test_web_js_spells_no_sort_deletion_filter_or_default():
    """A list's sort value, a deleted filter, a page size or a new ticket's status or
    priority written in the UI is a second definition of what GET /api/meta serves."""
    offenders = web_js_lines(re.compile(r"'-(createdAt|updatedAt|priority|status|subject)'"
                                        r"|'(exclude|include|only)'|\blimit: \d"
                                        r"|\|\| '(open|normal)'"))
    assert not offenders, "values to take from GET /api/meta instead:\n" + "\n".join(offenders)
