"""The running edge against docs/openapi.yaml: every operation is driven through a success and
at least one documented error, and every answer must have a status documented for that
operation, the documented required headers, and a body valid against the documented schema.
Also: the spec is well-formed, and postman_collection.json is what `make postman` makes."""
import datetime
import functools
import os
import re
import subprocess
import time
import uuid

import jsonschema
import pytest
import yaml

from conftest import ROOT, error_of
from test_jobs import failed_job_of

SPEC_PATH = os.path.join(ROOT, "docs", "openapi.yaml")
METHODS = ("get", "put", "post", "delete", "patch")
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")

# (METHOD, path template) -> statuses seen; checked for coverage by the last test.
SEEN = {}


@functools.lru_cache(maxsize=1)
def spec():
    with open(SPEC_PATH, encoding="utf-8") as f:
        return yaml.safe_load(f)


def resolve(obj):
    while isinstance(obj, dict) and "$ref" in obj:
        node = spec()
        for key in obj["$ref"].lstrip("#/").split("/"):
            node = node[key]
        obj = node
    return obj


def operations():
    for template, item in spec()["paths"].items():
        for method in METHODS:
            if method in item:
                yield method.upper(), template, item[method]


FORMATS = jsonschema.FormatChecker()


@FORMATS.checks("date-time")
def _is_datetime(value):
    if not isinstance(value, str):
        return True                     # formats constrain strings only (null passes)
    if not RFC3339.match(value):
        return False
    datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return True


@FORMATS.checks("uuid")
def _is_uuid(value):
    return not isinstance(value, str) or re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", value) is not None


def validate(schema, instance):
    """JSON Schema 2020-12 (OpenAPI 3.1's dialect); $refs resolve into the spec's components."""
    root = dict(schema)
    root["components"] = spec()["components"]
    jsonschema.Draft202012Validator(root, format_checker=FORMATS).validate(instance)


def template_of(method, path):
    """The documented path template a concrete path matches."""
    bare = path.split("?", 1)[0]
    for m, template, _ in operations():
        pattern = "^" + re.sub(r"\{[^/]+\}", "[^/]+", template) + "$"
        if m == method and re.match(pattern, bare):
            return template
    raise AssertionError(f"{method} {bare} is not a documented operation")


def check_answer(method, path, status, headers, body):
    template = template_of(method, path)
    op = spec()["paths"][template][method.lower()]
    documented = op["responses"]
    assert str(status) in documented, (
        f"{method} {template} answered {status}, documented: {sorted(documented)}; body {body!r}")
    response = resolve(documented[str(status)])
    for name, header in response.get("headers", {}).items():
        header = resolve(header)
        value = headers.get(name.lower())
        if header.get("required"):
            assert value is not None, f"{method} {template} {status}: no {name} header"
        if value is not None:
            validate(header["schema"], value)
    content = response.get("content")
    if not content:
        assert body in ("", None), f"{method} {template} {status}: expected no body, got {body!r}"
    elif "application/json" in content:
        assert "application/json" in headers.get("content-type", ""), headers
        try:
            validate(content["application/json"]["schema"], body)
        except jsonschema.ValidationError as e:
            raise AssertionError(f"{method} {template} {status}: body does not match the spec: "
                                 f"{e.message} at {list(e.absolute_path)}\n{str(body)[:500]}")
    else:
        media = next(iter(content))
        assert headers.get("content-type", "").startswith(media), headers
        validate(content[media]["schema"], body)
    SEEN.setdefault((method, template), set()).add(status)


def call(system, method, path, body=None, token=None, headers=None, raw=None, expect=None):
    """One request, checked against the spec; expect (a status or a set) is also asserted."""
    status, h, parsed = system.request(method, path, body=body, token=token, headers=headers,
                                       raw=raw)
    check_answer(method, path, status, h, parsed)
    if expect is not None:
        allowed = expect if isinstance(expect, (set, tuple)) else {expect}
        assert status in allowed, f"{method} {path}: expected {expect}, got {status} {parsed!r}"
    return status, h, parsed


def new_ticket(system, token, **fields):
    body = {"subject": "Contract ticket", "requesterEmail": "contract@example.com", **fields}
    return call(system, "POST", "/api/tickets", body, token=token, expect=201)[2]


# ------------------------------------------------------------------ the spec itself


def test_the_spec_is_openapi_3_1_and_every_ref_resolves():
    s = spec()
    assert s["openapi"].startswith("3.1"), s["openapi"]

    def walk(node):
        if isinstance(node, dict):
            if "$ref" in node:
                assert node["$ref"].startswith("#/components/"), node["$ref"]
                resolve(node)               # KeyError if it names nothing
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
    walk(s)
    for name, schema in s["components"]["schemas"].items():
        jsonschema.Draft202012Validator.check_schema(schema)
    ids = [op["operationId"] for _, _, op in operations()]
    assert len(ids) == len(set(ids)), "operationIds must be unique"


def test_the_spec_documents_every_route_of_the_edge():
    """http-edge/routes.c is the truth about which routes exist."""
    with open(os.path.join(ROOT, "http-edge", "routes.c"), encoding="utf-8") as f:
        routes = re.findall(r'\{\s*"([A-Z]+)",\s*"(/[^"]*)"', f.read())
    assert routes, "no route table found in http-edge/routes.c"
    code = {(m, re.sub(r":([a-z]+)", r"{\1}", p)) for m, p in routes}
    documented = {(m, t) for m, t, _ in operations()}
    assert code == documented, (f"in code only: {sorted(code - documented)}; "
                                f"in spec only: {sorted(documented - code)}")


def test_the_documented_bounds_are_the_ones_the_edge_enforces():
    """proto/vocab.h is the truth about limits: X (ID, "jsonKey", value) per limit."""
    with open(os.path.join(ROOT, "proto", "vocab.h"), encoding="utf-8") as f:
        consts = dict(re.findall(r'X \((\w+), "\w+", (\d+)\)', f.read()))
    params = spec()["components"]["parameters"]
    assert params["limit"]["schema"]["maximum"] == int(consts["LIMIT_MAX"])
    assert params["page"]["schema"]["maximum"] == int(consts["PAGE_MAX"])
    get_job = spec()["paths"]["/api/jobs/{id}"]["get"]
    items_limit = next(p for p in get_job["parameters"] if p.get("name") == "itemsLimit")
    assert items_limit["schema"]["maximum"] == int(consts["ITEMS_LIMIT_MAX"])
    ticket = spec()["components"]["schemas"]["TicketCreate"]["properties"]
    assert ticket["subject"]["maxLength"] == int(consts["SUBJECT_MAX"])
    assert ticket["description"]["maxLength"] == int(consts["DESCRIPTION_MAX"])
    key = params["idempotencyKey"]["schema"]
    assert key["maxLength"] == int(consts["IDEMPOTENCY_KEY_MAX"])


def test_the_postman_collection_is_the_one_generated_from_the_spec():
    r = subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "tools", "openapi2postman.py"),
                        SPEC_PATH], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    with open(os.path.join(ROOT, "postman_collection.json"), encoding="utf-8") as f:
        committed = f.read()
    assert committed == r.stdout, "postman_collection.json is stale: run `make postman`"


def test_the_postman_collection_logs_in_once_and_reuses_the_token():
    import json
    with open(os.path.join(ROOT, "postman_collection.json"), encoding="utf-8") as f:
        coll = json.load(f)
    assert coll["info"]["schema"].endswith("/v2.1.0/collection.json")
    assert coll["auth"]["type"] == "bearer"
    requests = [i for folder in coll["item"] for i in folder["item"]]
    assert len(requests) == len(list(operations()))
    login = [i for i in requests if i["request"]["url"]["raw"].endswith("/api/auth/login")]
    assert len(login) == 1 and login[0]["request"]["auth"] == {"type": "noauth"}
    script = "\n".join(login[0]["event"][0]["script"]["exec"])
    assert 'pm.collectionVariables.set("token"' in script
    for i in requests:
        raw = i["request"]["url"]["raw"]
        if raw.endswith(("/api/auth/login", "/api/health", "/api/meta", "/metrics")):
            assert i["request"].get("auth") == {"type": "noauth"}, raw
        else:
            assert "auth" not in i["request"], f"{raw} must inherit the collection's token"


# ------------------------------------------------------------------ auth


def test_login_and_me_answer_as_documented(system):
    _, _, body = call(system, "POST", "/api/auth/login",
                      {"email": "admin@example.com", "password": "admin123"}, expect=200)
    token = body["token"]
    _, _, me = call(system, "GET", "/api/auth/me", token=token, expect=200)
    assert me == body["user"]
    call(system, "POST", "/api/auth/login", {"email": "admin@example.com", "password": "nope"},
         expect=401)
    _, _, err = call(system, "POST", "/api/auth/login", {"email": "admin@example.com"},
                     expect=422)
    assert [d["field"] for d in error_of(err)["details"]] == ["password"]
    call(system, "POST", "/api/auth/login", raw=b"email=a", headers={"Content-Type": "text/plain"},
         expect=415)
    call(system, "POST", "/api/auth/login", raw=b"{not json",
         headers={"Content-Type": "application/json"}, expect=400)
    _, h, _ = call(system, "GET", "/api/auth/me", expect=401)
    assert h["www-authenticate"] == "Bearer"
    call(system, "GET", "/api/auth/me", token="not.a.token", expect=401)


def test_the_request_id_a_client_sends_comes_back(system):
    _, h, _ = call(system, "GET", "/api/health", headers={"X-Request-Id": "contract-rid-1"})
    assert h["x-request-id"] == "contract-rid-1"


# ------------------------------------------------------------------ tickets


def test_ticket_routes_answer_as_documented(system, admin_token, agent_token):
    _, _, page = call(system, "GET", "/api/tickets?page=1&limit=5&sort=-priority&status=open",
                      token=agent_token, expect=200)
    assert page["limit"] == 5 and len(page["data"]) <= 5
    _, _, err = call(system, "GET", "/api/tickets?limit=0", token=agent_token, expect=422)
    assert error_of(err)["details"][0]["field"] == "limit"
    call(system, "GET", "/api/tickets?deleted=include", token=agent_token, expect=403)
    call(system, "GET", "/api/tickets", expect=401)

    status, h, ticket = call(system, "POST", "/api/tickets",
                             {"subject": "  Contract  ", "requesterEmail": "c@example.com",
                              "priority": "high"}, token=agent_token, expect=201)
    assert h["location"] == f"/api/tickets/{ticket['id']}" and h["etag"] == '"1"'
    assert ticket["subject"] == "Contract" and ticket["status"] == "open"
    _, _, err = call(system, "POST", "/api/tickets", {"requesterEmail": "c@example.com",
                                                      "version": 3}, token=agent_token, expect=422)
    assert {d["field"] for d in error_of(err)["details"]} == {"subject", "version"}
    call(system, "POST", "/api/tickets", raw=b"x", headers={"Content-Type": "text/plain"},
         token=agent_token, expect=415)

    tid = ticket["id"]
    _, h, got = call(system, "GET", f"/api/tickets/{tid}", token=agent_token, expect=200)
    assert got == ticket and h["etag"] == '"1"'
    call(system, "GET", f"/api/tickets/{uuid.uuid4()}", token=agent_token, expect=404)
    call(system, "GET", "/api/tickets/not-a-uuid", token=agent_token, expect=404)

    _, h, updated = call(system, "PUT", f"/api/tickets/{tid}", {"status": "pending"},
                         token=agent_token, headers={"If-Match": '"1"'}, expect=200)
    assert updated["version"] == 2 and h["etag"] == '"2"'
    call(system, "PUT", f"/api/tickets/{tid}", {"status": "closed"}, token=agent_token,
         headers={"If-Match": "1"}, expect=412)
    call(system, "PUT", f"/api/tickets/{tid}", {"status": "closed"}, token=agent_token,
         headers={"If-Match": "v1"}, expect=400)
    call(system, "PUT", f"/api/tickets/{tid}", {"colour": "red"}, token=agent_token, expect=422)
    call(system, "PUT", f"/api/tickets/{uuid.uuid4()}", {"status": "closed"}, token=agent_token,
         expect=404)

    call(system, "DELETE", f"/api/tickets/{tid}", token=agent_token, expect=204)
    call(system, "DELETE", f"/api/tickets/{tid}", token=agent_token, expect=404)
    call(system, "GET", f"/api/tickets/{tid}", token=agent_token, expect=404)
    _, _, only = call(system, "GET", "/api/tickets?deleted=only&limit=100", token=admin_token,
                      expect=200)
    assert all(t["deletedAt"] for t in only["data"])

    call(system, "POST", f"/api/tickets/{tid}/restore", token=agent_token, expect=403)
    _, h, restored = call(system, "POST", f"/api/tickets/{tid}/restore", token=admin_token,
                          expect=200)
    assert restored["deletedAt"] is None and h["etag"] == f'"{restored["version"]}"'
    call(system, "POST", f"/api/tickets/{uuid.uuid4()}/restore", token=admin_token, expect=404)

    _, _, hist = call(system, "GET", f"/api/tickets/{tid}/history?limit=10", token=agent_token,
                      expect=200)
    assert [e["action"] for e in hist["data"]] == ["created", "updated", "deleted", "restored"]
    call(system, "GET", f"/api/tickets/{uuid.uuid4()}/history", token=agent_token, expect=404)
    call(system, "GET", f"/api/tickets/{tid}/history?limit=0", token=agent_token, expect=422)
    call(system, "GET", f"/api/tickets/{tid}/history", expect=401)


def test_the_users_list_answers_as_documented(system, agent_token):
    _, _, users = call(system, "GET", "/api/users?q=a&limit=5", token=agent_token, expect=200)
    assert len(users["data"]) <= 5 and users["total"] >= len(users["data"])
    call(system, "GET", "/api/users?limit=0", token=agent_token, expect=422)
    call(system, "GET", "/api/users", expect=401)


# ------------------------------------------------------------------ jobs


def wait_terminal(system, token, job_id, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        _, _, job = call(system, "GET", f"/api/jobs/{job_id}?itemsLimit=1", token=token,
                         expect=200)
        if job["status"] in ("completed", "failed", "canceled"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish in {timeout} s")


def test_job_routes_answer_as_documented(system, admin_token, agent_token):
    live = new_ticket(system, admin_token)["id"]
    missing = str(uuid.uuid4())
    body = {"type": "bulk-delete", "payload": {"ticketIds": [live, missing, live]}}
    key = f"contract-{uuid.uuid4()}"
    _, h, job = call(system, "POST", "/api/jobs", body, token=admin_token,
                     headers={"Idempotency-Key": key}, expect=202)
    assert h["location"] == f"/api/jobs/{job['id']}" and job["total"] == 3
    _, h, again = call(system, "POST", "/api/jobs", body, token=admin_token,
                       headers={"Idempotency-Key": key}, expect=200)
    assert again["id"] == job["id"] and h["idempotent-replayed"] == "true"
    _, _, err = call(system, "POST", "/api/jobs", {"type": "bulk-delete",
                                                   "payload": {"ticketIds": [missing]}},
                     token=admin_token, headers={"Idempotency-Key": key}, expect=422)
    assert error_of(err)["code"] == "idempotency_key_reused"
    call(system, "POST", "/api/jobs", body, token=agent_token, expect=403)
    _, _, err = call(system, "POST", "/api/jobs", {"type": "bulk-delete",
                                                   "payload": {"ticketIds": ["x"]}},
                     token=admin_token, expect=422)
    assert error_of(err)["details"][0]["field"] == "payload.ticketIds[0]"

    done = wait_terminal(system, admin_token, job["id"])
    assert done["status"] == "completed" and done["processed"] == 3
    _, _, detail = call(system, "GET", f"/api/jobs/{job['id']}?itemsPage=1&itemsLimit=1000",
                        token=admin_token, expect=200)
    codes = [i["error"] and i["error"]["code"] for i in detail["items"]]
    assert [i["status"] for i in detail["items"]] == ["succeeded", "failed", "failed"], detail
    assert codes == [None, "not_found", "duplicate"], codes
    _, _, failed = call(system, "GET", f"/api/jobs/{job['id']}?itemStatus=failed",
                        token=admin_token, expect=200)
    assert failed["itemsTotal"] == 2
    call(system, "GET", f"/api/jobs/{job['id']}?itemsLimit=1001", token=admin_token, expect=422)
    call(system, "GET", f"/api/jobs/{job['id']}", token=agent_token, expect=404)
    call(system, "GET", f"/api/jobs/{uuid.uuid4()}", token=admin_token, expect=404)

    _, _, page = call(system, "GET", "/api/jobs?type=bulk-delete&status=completed&page=1&limit=5",
                      token=admin_token, expect=200)
    assert page["total"] >= 1 and all(j["status"] == "completed" for j in page["data"])
    call(system, "GET", "/api/jobs?limit=101", token=admin_token, expect=422)
    call(system, "GET", "/api/jobs", expect=401)

    call(system, "POST", f"/api/jobs/{job['id']}/cancel", token=admin_token, expect=409)
    call(system, "POST", f"/api/jobs/{job['id']}/cancel", token=agent_token, expect=404)
    call(system, "POST", f"/api/jobs/{uuid.uuid4()}/cancel", token=admin_token, expect=404)


def test_canceling_a_running_job_answers_the_canceled_job(system, admin_token):
    system.psql("""INSERT INTO tickets (subject, requester_email)
                   SELECT 'contract-cancel ' || g, 'bulk@example.com' FROM generate_series(1, 100000) g""")
    ids = system.psql("SELECT id FROM tickets WHERE subject LIKE 'contract-cancel %' "
                      "AND deleted_at IS NULL").split()
    _, _, job = call(system, "POST", "/api/jobs",
                     {"type": "bulk-delete", "payload": {"ticketIds": ids}},
                     token=admin_token, expect=202)
    status, _, canceled = call(system, "POST", f"/api/jobs/{job['id']}/cancel",
                               token=admin_token, expect={200, 409})
    if status == 409:
        pytest.fail("the 100000-item job finished before the cancel: make the job larger")
    assert canceled["status"] == "canceled" and canceled["finishedAt"]


def test_resuming_a_failed_job_answers_the_running_job(system, admin_token, agent_token):
    ids = [new_ticket(system, admin_token)["id"] for _ in range(3)]
    job_id, _ = failed_job_of(system, ids)
    call(system, "POST", f"/api/jobs/{job_id}/resume", token=agent_token, expect=403)
    call(system, "POST", f"/api/jobs/{uuid.uuid4()}/resume", token=admin_token, expect=404)
    _, _, job = call(system, "POST", f"/api/jobs/{job_id}/resume", token=admin_token, expect=200)
    assert job["status"] == "running" and job["error"] is None, job
    done = wait_terminal(system, admin_token, job_id)
    assert (done["status"], done["succeeded"]) == ("completed", 3), done
    _, _, err = call(system, "POST", f"/api/jobs/{job_id}/resume", token=admin_token, expect=409)
    assert error_of(err)["code"] == "job_not_failed"


# ------------------------------------------------------------------ operations


def test_health_and_metrics_answer_as_documented(system):
    _, h, health = call(system, "GET", "/api/health", expect=200)
    assert health["status"] == "ok" and health["workers"] >= 1
    _, h, text = call(system, "GET", "/metrics", expect=200)
    assert "# TYPE" in text


def test_meta_answers_the_vocabulary_as_documented(system):
    _, _, meta = call(system, "GET", "/api/meta", expect=200)
    assert meta["ticketPriorities"] == ["low", "normal", "high", "urgent"], meta
    assert meta["limits"]["maxJobItems"] >= 1, meta


def test_health_is_503_naming_what_is_down_without_workers(system):
    """Runs last but one: it kills the workers, then starts them again as an operator would."""
    for name in ("worker-1", "worker-2"):
        system.kill(name)
    try:
        deadline = time.time() + 20
        status, health = None, None
        while time.time() < deadline:
            status, h, health = system.request("GET", "/api/health")
            # The broker needs 4 silent heartbeats to declare the workers dead; until then
            # the edge may already answer 503 "degraded" (sys.health unanswered).
            if status == 503 and health.get("workers") == 0:
                break
            time.sleep(0.2)
        check_answer("GET", "/api/health", status, h, health)
        assert status == 503 and health["status"] == "down" and health["workers"] == 0, health
    finally:
        system.manage("up")
        system.wait_healthy()


def test_every_operation_was_driven_through_a_success_and_a_documented_error():
    """Coverage of the tests above (pytest runs a file's tests in order)."""
    if not SEEN:
        pytest.skip("only meaningful after the tests above (run the whole file)")
    missing = []
    for method, template, op in operations():
        seen = SEEN.get((method, template), set())
        if not any(200 <= s < 300 for s in seen):
            missing.append(f"{method} {template}: no success")
        errors = [c for c in op["responses"] if c.isdigit() and int(c) >= 400]
        if errors and not any(s >= 400 for s in seen):
            missing.append(f"{method} {template}: no documented error")
    assert not missing, missing
