#!/usr/bin/python3
"""openapi2postman: docs/openapi.yaml -> a Postman v2.1 collection on stdout.

    /usr/bin/python3 tools/openapi2postman.py docs/openapi.yaml > postman_collection.json

One folder per tag, one request per operation, in the spec's order. The login request
stores the token in the collection variable `token`, and every other request inherits the
collection's bearer auth (operations with `security: []` send none). Creating a ticket or a
job stores its id in `ticketId` / `jobId` for the requests that name one. The output is
deterministic (sorted keys, ids derived from operationIds) so `make postman` can be checked
against the committed file.
"""
import json
import sys
import uuid

import yaml

SCHEMA_URL = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
NAMESPACE = uuid.UUID("6c1b3e57-6a8e-4f0e-9a8e-2f1f3b1d9a01")   # ticketd's, fixed forever
METHODS = ("get", "put", "post", "delete", "patch")

# Path parameter {id} -> the collection variable that holds one, by the path's first segment.
PATH_VARIABLES = {"tickets": "ticketId", "jobs": "jobId"}

# After these operations, the answer's field is stored in a collection variable.
STORE = {
    "login": ("token", "token"),
    "createTicket": ("id", "ticketId"),
    "createJob": ("id", "jobId"),
}


def stable_id(*parts):
    return str(uuid.uuid5(NAMESPACE, "/".join(parts)))


def resolve(spec, obj):
    """Follows a local $ref (one level at a time) to the object it names."""
    while isinstance(obj, dict) and "$ref" in obj:
        node = spec
        for key in obj["$ref"].lstrip("#/").split("/"):
            node = node[key]
        obj = node
    return obj


def url_of(path, query):
    segments = [s for s in path.split("/") if s]
    resource = segments[1] if len(segments) > 1 and segments[0] == "api" else segments[0]
    out = []
    for s in segments:
        if s.startswith("{") and s.endswith("}"):
            s = "{{%s}}" % PATH_VARIABLES.get(resource, s[1:-1])
        out.append(s)
    raw = "{{baseUrl}}/" + "/".join(out)
    url = {"host": ["{{baseUrl}}"], "path": out, "raw": raw}
    if query:
        url["query"] = query
    return url


def example_value(schema):
    if "default" in schema:
        return str(schema["default"]).lower() if isinstance(schema["default"], bool) \
            else str(schema["default"])
    if "enum" in schema:
        return str(schema["enum"][0])
    return ""


def request_of(spec, path, method, op, path_params):
    params = [resolve(spec, p) for p in path_params + op.get("parameters", [])]
    query, headers = [], []
    for p in params:
        schema = resolve(spec, p.get("schema", {}))
        if p["in"] == "query":
            query.append({"disabled": True, "key": p["name"], "value": example_value(schema),
                          "description": "%s" % json.dumps(schema, sort_keys=True)})
        elif p["in"] == "header":
            value = {"If-Match": "\"1\"", "Idempotency-Key": "{{$guid}}",
                     "X-Request-Id": "{{$guid}}"}.get(p["name"], "")
            headers.append({"disabled": p["name"] != "Idempotency-Key", "key": p["name"],
                            "value": value, "description": p.get("description", "")})
    req = {"method": method.upper(), "header": headers, "url": url_of(path, query),
           "description": op.get("description", op.get("summary", ""))}
    body = op.get("requestBody")
    if body:
        media = resolve(spec, body)["content"]["application/json"]
        example = media.get("x-postman-example", media.get("example", {}))
        req["header"].insert(0, {"key": "Content-Type", "value": "application/json"})
        req["body"] = {"mode": "raw", "raw": json.dumps(example, indent=2, sort_keys=True),
                       "options": {"raw": {"language": "json"}}}
    if op.get("security") == []:
        req["auth"] = {"type": "noauth"}
    return req


def events_of(op):
    store = STORE.get(op["operationId"])
    if not store:
        return []
    field, variable = store
    script = [
        "if (pm.response.code >= 200 && pm.response.code < 300) {",
        "    pm.collectionVariables.set(\"%s\", pm.response.json().%s);" % (variable, field),
        "}",
    ]
    return [{"listen": "test",
             "script": {"id": stable_id(op["operationId"], "test"), "type": "text/javascript",
                        "exec": script}}]


def convert(spec):
    folders = {}
    for tag in spec.get("tags", []):
        folders[tag["name"]] = {"name": tag["name"], "description": tag.get("description", ""),
                                "item": []}
    for path, item in spec["paths"].items():
        for method in METHODS:
            op = item.get(method)
            if not op:
                continue
            tag = (op.get("tags") or ["default"])[0]
            folder = folders.setdefault(tag, {"name": tag, "description": "", "item": []})
            entry = {"id": stable_id(op["operationId"]), "name": op.get("summary", op["operationId"]),
                     "request": request_of(spec, path, method, op, item.get("parameters", []))}
            events = events_of(op)
            if events:
                entry["event"] = events
            folder["item"].append(entry)
    server = spec.get("servers", [{"url": "http://localhost:3001"}])[0]["url"]
    info = spec["info"]
    return {
        "info": {"_postman_id": stable_id("collection", info["title"]), "name": info["title"],
                 "description": "Generated from docs/openapi.yaml by tools/openapi2postman.py "
                                "(make postman). Run \"Log in\" first: it stores the token.",
                 "schema": SCHEMA_URL},
        "auth": {"type": "bearer", "bearer": [{"key": "token", "value": "{{token}}",
                                               "type": "string"}]},
        "variable": [
            {"key": "baseUrl", "value": server, "type": "string"},
            {"key": "adminEmail", "value": "admin@example.com", "type": "string"},
            {"key": "adminPassword", "value": "admin123", "type": "string"},
            {"key": "token", "value": "", "type": "string"},
            {"key": "ticketId", "value": "", "type": "string"},
            {"key": "jobId", "value": "", "type": "string"},
        ],
        "item": [f for f in folders.values() if f["item"]],
    }


def render(spec_path):
    with open(spec_path, encoding="utf-8") as f:
        spec = yaml.safe_load(f)
    return json.dumps(convert(spec), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv):
    if len(argv) != 2 or argv[1] in ("-h", "--help"):
        sys.stderr.write("usage: openapi2postman.py OPENAPI.yaml > postman_collection.json\n")
        return 2
    sys.stdout.write(render(argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
