/*  fuzz_validate_body: an HTTP request body as the edge reads it, through
    validate_json_body and then every body validator (validate_ticket for create and
    update, validate_job_create). Input: "<content-type>\n<body>" when a newline comes in
    the first 80 bytes, else the whole input is the body of an application/json request.  */
#include "fuzz_validate.h"
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
            FUZZ_CHECK (validate_utf8_chars (s, n) <= VALIDATE_SUBJECT_MAX);
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

static void
s_check_job (json_t *root)
{
    json_t *details = json_array ();
    json_t *ids = validate_job_create (root, 50, details);
    fuzz_check_verdict (ids, details, 0);
    if (ids) {
        FUZZ_CHECK (json_is_array (ids) && json_array_size (ids) >= 1 && json_array_size (ids) <= 50);
        for (size_t i = 0; i < json_array_size (ids); i++)
            FUZZ_CHECK (uuid_valid (json_string_value (json_array_get (ids, i))));
        //  Only "type" and "payload" at the top, only "ticketIds" inside.
        FUZZ_CHECK (json_object_size (root) == 2);
        FUZZ_CHECK (json_object_size (json_object_get (root, "payload")) == 1);
        json_decref (ids);
    }
    json_decref (details);
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
        s_check_job (root);
        json_decref (root);
    }
    free (body);
    return 0;
}
