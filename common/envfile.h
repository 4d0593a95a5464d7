/*  envfile: the KEY=VALUE settings file (.env) that ./manage.sh writes and reads, read
    the way manage.sh reads it (load_env): a variable already in the environment wins, and
    nothing in the file is ever evaluated. Stricter than manage.sh in one way: a line it
    would skip in silence (a typo such as "KEY = value") is an error naming file and line,
    since a tool that quietly ignored it would talk to another system.  */
#ifndef COMMON_ENVFILE_H
#define COMMON_ENVFILE_H

#include <stddef.h>

#define ENVFILE_LINE_MAX    4096        //  bytes of one line, its newline included
#define ENVFILE_LINES_MAX   10000       //  a longer file is not a settings file

//  Reads path, line by line: blank lines and lines whose first non-blank is '#' are
//  skipped; every other line is optional blanks, KEY ([A-Za-z_][A-Za-z0-9_]*), '=' and the
//  value to the end of the line (a trailing CR dropped; one pair of enclosing "" or ''
//  removed, nothing else unquoted or expanded). Each KEY named in keys (NULL-terminated)
//  that is not in the environment, even empty, is set to its value; the first line of a
//  key wins. Returns -1 with the reason in err ("FILE line N: ...") when the file cannot
//  be read or any line is malformed; then the environment is left unchanged.
int envfile_load (const char *path, const char *const *keys, char *err, size_t errlen);

#endif
