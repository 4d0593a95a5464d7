/*  Unit tests for common/envfile: .env read as manage.sh reads it, strictly, never run.  */
#include "testing.h"
#include "common/envfile.h"

#include <stdlib.h>
#include <unistd.h>

static const char *const s_keys [] = { "TEF_A", "TEF_B", "TEF_C", "TEF_D", NULL };

//  text in a fresh temporary file; its path in path (PATH_MAX-free: a fixed template).
static void
s_write (char *path, const char *text, size_t len)
{
    strcpy (path, "/tmp/test_envfile.XXXXXX");
    int fd = mkstemp (path);
    if (fd < 0 || write (fd, text, len) != (ssize_t) len)
        abort ();
    close (fd);
    for (int i = 0; s_keys [i]; i++)
        unsetenv (s_keys [i]);
}

TEST (test_envfile_reads_keys_comments_and_quotes_as_manage_sh_writes_them)
{
    char path [64], err [256] = "";
    const char text [] = "# comment\n\n  TEF_A=tcp://127.0.0.1:7001\r\nTEF_B=\"quoted # kept\"\n"
                         "OTHER=secret\nTEF_C='single'\nTEF_A=second\nTEF_D=";
    s_write (path, text, sizeof text - 1);
    int rc = envfile_load (path, s_keys, err, sizeof err);
    unlink (path);
    CHECK_INT (rc, 0);
    CHECK_STR (getenv ("TEF_A"), "tcp://127.0.0.1:7001");    //  the first line wins
    CHECK_STR (getenv ("TEF_B"), "quoted # kept");
    CHECK_STR (getenv ("TEF_C"), "single");
    CHECK_STR (getenv ("TEF_D"), "");
    CHECK (getenv ("OTHER") == NULL);                       //  only the keys asked for
}

TEST (test_envfile_leaves_what_the_environment_holds_even_empty)
{
    char path [64], err [256] = "";
    const char text [] = "TEF_A=file\nTEF_B=file\n";
    s_write (path, text, sizeof text - 1);
    setenv ("TEF_A", "env", 1);
    setenv ("TEF_B", "", 1);
    int rc = envfile_load (path, s_keys, err, sizeof err);
    unlink (path);
    CHECK_INT (rc, 0);
    CHECK_STR (getenv ("TEF_A"), "env");
    CHECK_STR (getenv ("TEF_B"), "");
}

TEST (test_envfile_names_file_and_line_of_a_malformed_line_and_sets_nothing)
{
    static const struct { const char *text; const char *why; } rows [] = {
        { "TEF_A=1\nTEF_B = 2\n", "line 2: expected '='" },
        { "TEF_A=1\n\n$(touch /tmp/pwned)\n", "line 3: expected KEY=VALUE" },
        { "export TEF_A=1\n", "line 1: expected '='" },
        { "TEF_A=\"open\n", "line 1: a value that opens a quote" },
        { "TEF_A='mixed\"\n", "line 1: a value that opens a quote" },
        { "1TEF=1\n", "line 1: expected KEY=VALUE" },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows [0]; i++) {
        char path [64], err [256] = "";
        s_write (path, rows [i].text, strlen (rows [i].text));
        int rc = envfile_load (path, s_keys, err, sizeof err);
        unlink (path);
        CHECK_INT (rc, -1);
        CHECK (strstr (err, path) == err);
        if (!strstr (err, rows [i].why))
            fprintf (stderr, "  row %zu: %s\n", i, err);
        CHECK (strstr (err, rows [i].why));
        CHECK (getenv ("TEF_A") == NULL);
    }
}

TEST (test_envfile_refuses_a_long_line_a_nul_and_a_missing_file)
{
    char path [64], err [256] = "";
    char *text = malloc (ENVFILE_LINE_MAX + 16);
    CHECK (text);
    memcpy (text, "TEF_A=", 6);
    memset (text + 6, 'x', ENVFILE_LINE_MAX + 8);
    s_write (path, text, ENVFILE_LINE_MAX + 14);
    free (text);
    int rc = envfile_load (path, s_keys, err, sizeof err);
    unlink (path);
    CHECK_INT (rc, -1);
    CHECK (strstr (err, "line 1: longer than 4095 bytes"));

    s_write (path, "TEF_A=a\0b\n", 10);
    rc = envfile_load (path, s_keys, err, sizeof err);
    unlink (path);
    CHECK_INT (rc, -1);
    CHECK (strstr (err, "line 1: holds a NUL byte"));

    CHECK_INT (envfile_load ("/nonexistent/.env", s_keys, err, sizeof err), -1);
    CHECK (strstr (err, "/nonexistent/.env: cannot open"));
}

TEST (test_envfile_takes_a_line_of_exactly_the_bound)
{
    char path [64], err [256] = "";
    char *text = malloc (ENVFILE_LINE_MAX + 1);
    CHECK (text);
    memcpy (text, "TEF_A=", 6);
    memset (text + 6, 'y', ENVFILE_LINE_MAX - 7);
    text [ENVFILE_LINE_MAX - 1] = '\n';
    s_write (path, text, ENVFILE_LINE_MAX);
    free (text);
    int rc = envfile_load (path, s_keys, err, sizeof err);
    unlink (path);
    CHECK_INT (rc, 0);
    CHECK_INT (strlen (getenv ("TEF_A")), ENVFILE_LINE_MAX - 7);
}

TEST_MAIN ("envfile",
    T (test_envfile_reads_keys_comments_and_quotes_as_manage_sh_writes_them),
    T (test_envfile_leaves_what_the_environment_holds_even_empty),
    T (test_envfile_names_file_and_line_of_a_malformed_line_and_sets_nothing),
    T (test_envfile_refuses_a_long_line_a_nul_and_a_missing_file),
    T (test_envfile_takes_a_line_of_exactly_the_bound))
