/*  fuzz_validate_body: an HTTP request body as the edge reads it, through
    validate_json_body and then every body validator (validate_ticket for create and
    update, validate_job_create). Input: "<content-type>\n<body>" when a newline comes in
    the first 80 bytes, else the whole input is the body of an application/json request.  */
#include "fuzz_validate.h"
#include "../../http-edge/jobbody.h"
#include <ctype.h>

static const char *s_writable [] = { "subject", "description", "status", "priority",
                                     "requesterEmail", "assigneeId", NULL };

static bool
s_writable_key (const char *key)
{
    for (const char **k = s_writable; *k; k++)
        if (!strcmp (key, *k))
            return true;
    return false;
}

static void
s_check_ticket (json_t *root, bool create)
{
    json_t *details = json_array ();
    json_t *fields = validate_ticket (root, create, details);
    fuzz_check_verdict (fields, details, 0);
    if (fields) {
        const char *key;
        json_t *value;
        json_object_foreach (fields, key, value)
            FUZZ_CHECK (s_writable_key (key));
        json_t *subject = json_object_get (fields, "subject");
        if (subject) {
            const char *s = json_string_value (subject);
            size_t n = json_string_length (subject);
            FUZZ_CHECK (s && n > 0 && !isspace ((unsigned char) s [0])
                        && !isspace ((unsigned char) s [n - 1]));
            FUZZ_CHECK (validate_utf8_chars (s, n) <= VOCAB_SUBJECT_MAX);
        }
        json_t *email = json_object_get (fields, "requesterEmail");
        if (email)
            FUZZ_CHECK (validate_email (json_string_value (email)));
        if (create)
            FUZZ_CHECK (subject && email);
        json_decref (fields);
    }
    json_decref (details);
}

//  The job route reads its body through jobbody (ids streamed, the rest parsed), so the
//  check runs that path and holds it against jansson's reading of the whole body (root).
static void
s_check_job (json_t *root, const char *body, size_t size)
{
    jobbody_t *scan = jobbody_new (50, size + 1);
    FUZZ_CHECK (scan != NULL);
    jobbody_feed (scan, body, size);
    if (jobbody_finish (scan) == 0) {
        size_t len = 0;
        const char *rest = jobbody_rest (scan, &len);
        json_t *rest_root = NULL;
        validate_json_body ("application/json", rest, len, &rest_root, NULL, 0);
        //  Where jansson took the whole body, the rest parses too; and the ids jobbody
        //  counted are the array jansson saw.
        if (root)
            FUZZ_CHECK (rest_root != NULL);
        json_t *ids = json_object_get (json_object_get (root, "payload"), "ticketIds");
        if (root && json_is_array (ids)) {
            FUZZ_CHECK (jobbody_ids_seen (scan));
            FUZZ_CHECK (jobbody_count (scan) == json_array_size (ids));
            size_t bad = 0;
            for (size_t i = 0; i < json_array_size (ids); i++) {
                json_t *v = json_array_get (ids, i);
                if (!json_is_string (v) || !uuid_valid_n (json_string_value (v), json_string_length (v)))
                    bad++;
            }
            FUZZ_CHECK (jobbody_bad_count (scan) == bad);
        }
        if (rest_root) {
            validate_ids_t sum = { .seen = jobbody_ids_seen (scan) && !jobbody_repeated (scan),
                                   .count = jobbody_count (scan), .bad = jobbody_bad_count (scan) };
            for (size_t i = 0; i < sum.bad && i < VALIDATE_JOB_BAD_MAX; i++)
                sum.bad_index [i] = jobbody_bad_index (scan, i);
            json_t *details = json_array ();
            bool ok = validate_job_create (rest_root, &sum, 50, details);
            fuzz_check_verdict (ok ? rest_root : NULL, details, 0);
            if (ok) {
                size_t n = 0;
                unsigned char *taken = jobbody_take_ids (scan, &n);
                FUZZ_CHECK (taken && n == sum.count && n >= 1 && n <= 50);
                free (taken);
                //  Only "type" and "payload" at the top, only "ticketIds" inside.
                FUZZ_CHECK (json_object_size (rest_root) == 2);
                FUZZ_CHECK (json_object_size (json_object_get (rest_root, "payload")) == 1);
            }
            json_decref (details);
            json_decref (rest_root);
        }
    }
    else
        FUZZ_CHECK (jobbody_error (scan) [0] != 0);
    jobbody_destroy (&scan);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    const char *ctype = "application/json";
    char ctbuf [81];
    const uint8_t *nl = memchr (data, '\n', size < 81 ? size : 81);
    if (nl) {
        size_t n = (size_t) (nl - data);
        memcpy (ctbuf, data, n);
        ctbuf [n] = 0;
        ctype = ctbuf;
        size -= n + 1;
        data = nl + 1;
    }
    //  A private copy, so reading one byte past the body is caught.
    char *body = malloc (size ? size : 1);
    memcpy (body, data, size);
    json_t *root = NULL;
    char why [200];
    validate_body_t rc = validate_json_body (ctype, body, size, &root, why, sizeof why);
    FUZZ_CHECK ((rc == VALIDATE_BODY_OK) == (root != NULL));
    if (rc == VALIDATE_BODY_INVALID_JSON)
        FUZZ_CHECK (why [0] != 0);
    if (root) {
        FUZZ_CHECK (json_is_object (root));
        s_check_ticket (root, true);
        s_check_ticket (root, false);
        json_decref (root);
    }
    if (rc == VALIDATE_BODY_OK || rc == VALIDATE_BODY_INVALID_JSON || rc == VALIDATE_BODY_NOT_OBJECT) {
        validate_json_body (ctype, body, size, &root, NULL, 0);
        s_check_job (root, body, size);
        json_decref (root);
    }
    free (body);
    return 0;
}
