/*  Unit tests for workers/check: the payload checks every service family uses.  */
#include "testing.h"
#include "../../workers/check.h"

static json_t *
s_json (const char *text)
{
    json_error_t err;
    return json_loads (text, 0, &err);
}

TEST (test_string_check_counts_characters_not_bytes)
{
    //  200 two-byte characters are 400 bytes but within subject's 200-character limit.
    char *text = test_json_repeat ("s", "\xc3\xa9", 200);
    json_t *p = s_json (text);
    free (text);
    json_t *details = json_array ();
    const char *s;
    CHECK (p);
    CHECK_INT (check_string (p, "s", true, 1, 200, details, &s), 0);
    CHECK_INT (check_string (p, "s", true, 1, 199, details, &s), -1);
    json_decref (p);
    json_decref (details);
}

TEST (test_uuid_check_refuses_injection_text)
{
    json_t *p = s_json ("{\"id\":\"00000000-0000-0000-0000-000000000000' OR '1'='1\"}");
    json_t *details = json_array ();
    const char *id;
    CHECK_INT (check_uuid (p, "id", true, false, details, &id, NULL), -1);
    CHECK (id == NULL);
    json_decref (p);
    json_decref (details);
}

TEST_MAIN ("worker_check",
    T (test_string_check_counts_characters_not_bytes),
    T (test_uuid_check_refuses_injection_text))
