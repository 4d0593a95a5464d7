#!/usr/bin/python3
"""Writes the seed corpus of every harness into tests/fuzz/corpus/<name>/: a handful of
valid inputs (so the fuzzer starts deep inside each decoder) and a few invalid ones. Run it
again after changing a format; the files are small and kept in the tree."""
import hashlib
import os

HERE = os.path.dirname(os.path.abspath(__file__))
UUID = b"0b9c2b1e-3f4a-4c5d-8e6f-7a8b9c0d1e2f"
UUID2 = b"5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d"


def frames(*parts):
    """fuzz_frames.h's format: 1 length byte, or 0xFF + 2 bytes big-endian, then the bytes."""
    out = b""
    for p in parts:
        out += bytes([len(p)]) + p if len(p) < 255 else b"\xff" + len(p).to_bytes(2, "big") + p
    return out


SEEDS = {
    "mdp_broker": [
        frames(b"\x00\x01\x02\x03", b"", b"MDPC01", b"tickets.get", b"rid-1", b"", b'{"id":"x"}'),
        frames(b"\x00\x01\x02\x03", b"", b"MDPC01", b"mmi.service", b"tickets.get"),
        frames(b"W1", b"", b"MDPW01", b"\x01", b"tickets.get", b"tickets.list", b"auth.login"),
        frames(b"W1", b"", b"MDPW01", b"\x03", b"\x00\x6b\x8b\x45\x67", b"", b"rid-1", b"200", b"{}"),
        frames(b"W1", b"", b"MDPW01", b"\x04"),
        frames(b"W1", b"", b"MDPW01", b"\x05"),
        frames(b"W1", b"", b"MDPW01", b"\x02", b"C", b"", b"x"),          # REQUEST the wrong way
        frames(b"W1", b"", b"MDPW01", b"\x01", b"bad service"),           # space in a name
        frames(b"W1", b"", b"MDPW01", b"\x01", b"s" * 256),              # name too long
        frames(b"\x00" * 256, b"", b"MDPC01", b"x"),                      # routing id too long
        frames(b"W1", b"x", b"MDPC01", b"x"),
        frames(b"W1", b"", b"MDPW01", b"\x04", b"trailing"),
    ],
    "mdp_client": [
        frames(b"", b"MDPC01", b"tickets.get", b"rid-1", b"200", b'{"id":"x"}'),
        frames(b"", b"MDPC01", b"mmi.service", b"200"),
        frames(b"", b"MDPC01", b"tickets.get", *([b"f"] * 17)),            # 17 body frames
        frames(b"", b"MDPW01", b"\x02", b"C", b"", b"x"),
        frames(b"", b"MDPC02", b"x"),
        frames(b""),
    ],
    "mdp_worker": [
        frames(b"", b"MDPW01", b"\x02", b"\x00\x6b\x8b\x45\x67", b"", b"rid-1", b"", b"{}"),
        frames(b"", b"MDPW01", b"\x02", b"\x00\x6b\x8b\x45\x67", b"", b"tickets.get", b"rid-1",
               UUID + b" admin", b'{"id":"x"}'),
        frames(b"", b"MDPW01", b"\x04"),
        frames(b"", b"MDPW01", b"\x05"),
        frames(b"", b"MDPW01", b"\x01", b"x"),
        frames(b"", b"MDPW01", b"\x09"),
        frames(b"", b"MDPW01", b"\x02\x02"),
        frames(b"", b"MDPW01", b"\x02", b"", b"", b"x"),
    ],
    "svc_request": [
        frames(b"rid-1", b"", b"{}"),
        frames(b"rid-2", UUID + b" admin", b'{"id":"' + UUID2 + b'"}'),
        frames(b"rid-3", UUID + b" agent", b'{"page":1,"limit":20}'),
        frames(b"rid-4", UUID + b" root", b"{}"),
        frames(b"rid-5", UUID[:-1] + b"  agent", b"{}"),
        frames(b"r" * 65, b"", b"{}"),
        frames(b"rid 6", b"", b"{}"),
        frames(b"rid-7", b""),
    ],
    "svc_reply": [
        frames(b"rid-1", b"200", b'{"id":"x"}'),
        frames(b"rid-2", b"204", b""),
        frames(b"rid-3", b"503", b'{"error":{"code":"x","message":"y","details":[]}}'),
        frames(b"rid-4", b"600", b"{}"),
        frames(b"rid-5", b"20", b"{}"),
        frames(b"rid-6", b"2a0", b"{}"),
        frames(b"-", b"500", b"{}", b"extra"),
    ],
    "validate_body": [
        b'{"subject":"Printer on fire","requesterEmail":"a@b.co","priority":"high"}',
        b'{"subject":"  x  ","description":"d","status":"open","assigneeId":null}',
        b'{"subject":"x","requesterEmail":"a@b.co","assigneeId":"' + UUID + b'"}',
        b'{"id":"x","version":3,"colour":"red"}',
        b'{"type":"bulk-delete","payload":{"ticketIds":["' + UUID + b'","' + UUID2 + b'"]}}',
        b'{"type":"bulk-delete","payload":{"ticketIds":["x",1,null],"other":1}}',
        b"application/json; charset=utf-8\n{\"subject\":\"\\u00e9t\\u00e9\"}",
        b"text/plain\n{}",
        b'{"a":1,"a":2}',
        b"[1,2,3]",
        b'{"subject":',
        b"",
    ],
    "validate_fields": [
        b'"3"', b"*", b" 12 ", b'W/"3"', b"0", b"99999999999",
        b"/index.html", b"/js/app.js", b"/../etc/passwd", b"//x", b"/a/./b",
        b"agent@example.com", b"a@b", b"a@@b.co", b"application/json; charset=utf-8",
        "\u00e9t\u00e9 \U0001f600".encode(), b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80",
    ],
    "query": [
        b"page=2&limit=50&status=open&priority=high&sort=-updatedAt",
        b"q=printer+fire&deleted=include&assigneeId=" + UUID,
        b"page=0&limit=101&sort=colour",
        b"page=1&page=2",
        b"q=%C3%A9t%C3%A9&q",
        b"itemsPage=2&itemsLimit=1000&itemStatus=failed",
        b"type=bulk-delete&status=running",
        b"%00=1&x%FF=2&=3",
        b"limit=%2B5&page=+1",
    ],
    "hub_event": [
        frames(b"jobs.progress." + UUID,
               b'{"event":"jobs:progress","data":{"id":"' + UUID + b'","createdBy":"' + UUID2
               + b'","processed":10,"total":100}}'),
        frames(b"jobs.created." + UUID,
               b'{"event":"jobs:created","data":{"id":"' + UUID + b'","createdBy":"' + UUID2 + b'"}}'),
        frames(b"jobs.completed." + UUID.upper(),
               b'{"event":"jobs:completed","data":{"id":"' + UUID + b'","createdBy":"' + UUID2 + b'"}}'),
        frames(b"jobs.progress." + UUID,
               b'{"event":"jobs:failed","data":{"id":"' + UUID + b'","createdBy":"' + UUID2 + b'"}}'),
        frames(b"jobs.progress." + UUID,
               b'{"event":"jobs:progress","data":{"id":"' + UUID2 + b'","createdBy":"x"}}'),
        frames(b"jobs.progress." + UUID,
               b'{"event":"jobs:progress","data":{"id":"' + UUID + b'","createdBy":"' + UUID2
               + b'","processed":"10"}}'),
        frames(b"jobs.bogus." + UUID, b"{}"),
        frames(b"jobs." + UUID, b"{}"),
    ],
}

# jwt: first byte picks the mode (0 raw token, 1 signed claims, 2 signed header + claims).
EXP = b"1900000000"
SEEDS["jwt"] = [
    b"\x00eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln",
    b"\x00eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
    b"\x00a.b",
    b"\x00not a token",
    b"\x01{\"sub\":\"" + UUID + b"\",\"role\":\"admin\",\"iat\":1700000000,\"exp\":" + EXP + b"}",
    b"\x01{\"sub\":\"" + UUID + b"\",\"role\":\"agent\",\"exp\":" + EXP + b"}",
    b"\x01{\"sub\":\"" + UUID + b"\",\"role\":\"root\",\"exp\":" + EXP + b"}",
    b"\x01{\"sub\":\"" + UUID + b"\",\"role\":\"admin\",\"exp\":1600000000}",
    b"\x01{\"sub\":\"" + UUID + b"\",\"role\":\"admin\",\"exp\":\"" + EXP + b"\"}",
    b"\x01{\"sub\":42,\"role\":\"admin\",\"exp\":" + EXP + b"}",
    b"\x02{\"alg\":\"none\"}\n{\"sub\":\"" + UUID + b"\",\"role\":\"admin\",\"exp\":" + EXP + b"}",
    b"\x02{\"alg\":\"HS512\"}\n{\"sub\":\"" + UUID + b"\",\"role\":\"admin\",\"exp\":" + EXP + b"}",
    b"\x02{\"alg\":\"HS256\",\"typ\":\"JWT\"}\n{\"sub\":\"" + UUID + b"\",\"role\":\"agent\",\"exp\":" + EXP + b"}",
]

# jsonscan: raw bytes, as a worker's answer.
SEEDS["jsonscan"] = [
    b'{"id":"' + UUID + b'","subject":"Printer on fire","version":3,"deletedAt":null}',
    b'{"items":[{"id":1},{"id":2.5e3}],"total":2,"totalIsEstimate":false}',
    b' [true, false, null, -0, 0.5, 1E+2, "a\\u00e9\\ud83d\\ude00\\n"] ',
    b'"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"',
    b'{"id":"x","id":7,"version":"1","version":9223372036854775807}',
    b'{"version":9223372036854775808}',
    b'[1e400]',
    b'"\\u0000"',
    b'"\\ud800"',
    b'"\xed\xa0\x80"',
    b'[01]',
    b'{"a":1,}',
    b'[' * 2048 + b']' * 2048,
    b'[' * 2049 + b']' * 2049,
    b'{"a":1} x',
]

# jsonw: one string each, escaped as jansson escapes it (or refused as it refuses it).
SEEDS["jsonw"] = [
    b"", b"plain", b"quote \" back \\ slash /", b"\b\f\n\r\t\x01\x1f\x7f\x00",
    "line\u2028sep \U0001F600 caf\u00e9".encode(), b"\xc0\x80", b"\xed\xa0\x80",
    b"\xf4\x90\x80\x80", b"\xe2\x80", b"ok\xff",
]

for name, inputs in SEEDS.items():
    d = os.path.join(HERE, "corpus", name)
    os.makedirs(d, exist_ok=True)
    for data in inputs:
        with open(os.path.join(d, hashlib.sha1(data).hexdigest()[:16]), "wb") as f:
            f.write(data)
    print(f"{name}: {len(inputs)} seeds")
