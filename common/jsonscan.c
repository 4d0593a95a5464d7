/*  jsonscan: one pass over the bytes, no allocation but for a real number past 63
    characters, an explicit stack instead of recursion (so a deep text costs a byte per
    level, not a stack frame). Each rule below is jansson 2.14's (src/load.c, utf.c).  */
#include "jsonscan.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

//  The top-level member whose value comes next.
typedef enum { S_KEY_OTHER, S_KEY_ID, S_KEY_VERSION } s_key_t;
//  What the scanner expects next: a value, an object's key, or what follows a value.
typedef enum { S_VALUE, S_MEMBER, S_AFTER, S_DONE, S_FAILED } s_state_t;

typedef struct {
    const unsigned char *p;
    const unsigned char *end;
    unsigned char open [JSONSCAN_DEPTH_MAX];    //  '{' or '[' per open container
    size_t depth;
    s_key_t key;
    jsonscan_top_t *top;
} s_scan_t;

static bool
s_digit (const s_scan_t *s)
{
    return s->p < s->end && *s->p >= '0' && *s->p <= '9';
}

//  One digit or more; -1 when there is none.
static int
s_digits (s_scan_t *s)
{
    if (!s_digit (s))
        return -1;
    while (s_digit (s))
        s->p++;
    return 0;
}

static void
s_skip_space (s_scan_t *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

static int
s_hex4 (s_scan_t *s, uint32_t *out)
{
    if (s->end - s->p < 4)
        return -1;
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned char ch = s->p [i];
        uint32_t d = ch >= '0' && ch <= '9' ? ch - '0'
                   : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
                   : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : 16;
        if (d == 16)
            return -1;
        v = v << 4 | d;
    }
    s->p += 4;
    *out = v;
    return 0;
}

//  The length of the UTF-8 sequence at p (its first byte >= 0x80), or -1 for an
//  overlong form, a surrogate, a value past U+10FFFF or a cut sequence.
static int
s_utf8_length (const unsigned char *p, const unsigned char *end)
{
    int n = *p >= 0xC2 && *p <= 0xDF ? 2 : *p >= 0xE0 && *p <= 0xEF ? 3
          : *p >= 0xF0 && *p <= 0xF4 ? 4 : 0;
    if (!n || end - p < n)
        return -1;
    uint32_t v = *p & (n == 2 ? 0x1F : n == 3 ? 0x0F : 0x07);
    for (int i = 1; i < n; i++) {
        if ((p [i] & 0xC0) != 0x80)
            return -1;
        v = v << 6 | (p [i] & 0x3F);
    }
    if ((n == 3 && v < 0x800) || (n == 4 && v < 0x10000) || (v >= 0xD800 && v <= 0xDFFF)
    ||  v > 0x10FFFF)
        return -1;
    return n;
}

static size_t
s_utf8_encode (uint32_t v, unsigned char *out)
{
    if (v < 0x80) {
        out [0] = (unsigned char) v;
        return 1;
    }
    if (v < 0x800) {
        out [0] = (unsigned char) (0xC0 | v >> 6);
        out [1] = (unsigned char) (0x80 | (v & 0x3F));
        return 2;
    }
    if (v < 0x10000) {
        out [0] = (unsigned char) (0xE0 | v >> 12);
        out [1] = (unsigned char) (0x80 | (v >> 6 & 0x3F));
        out [2] = (unsigned char) (0x80 | (v & 0x3F));
        return 3;
    }
    out [0] = (unsigned char) (0xF0 | v >> 18);
    out [1] = (unsigned char) (0x80 | (v >> 12 & 0x3F));
    out [2] = (unsigned char) (0x80 | (v >> 6 & 0x3F));
    out [3] = (unsigned char) (0x80 | (v & 0x3F));
    return 4;
}

//  An escape after its backslash, decoded into out. A \u escape must be a whole code
//  point: a high surrogate followed by a low one, never a lone one, never U+0000.
static int
s_escape (s_scan_t *s, unsigned char out [4], size_t *len)
{
    static const char from [] = "\"\\/bfnrt", to [] = "\"\\/\b\f\n\r\t";
    if (s->p >= s->end)
        return -1;
    unsigned char e = *s->p++;
    const char *hit = e && e != 'u' ? strchr (from, e) : NULL;
    if (hit) {
        out [0] = (unsigned char) to [hit - from];
        *len = 1;
        return 0;
    }
    uint32_t v, low;
    if (e != 'u' || s_hex4 (s, &v) || v == 0 || (v >= 0xDC00 && v <= 0xDFFF))
        return -1;
    if (v >= 0xD800 && v <= 0xDBFF) {
        if (s->end - s->p < 2 || s->p [0] != '\\' || s->p [1] != 'u')
            return -1;
        s->p += 2;
        if (s_hex4 (s, &low) || low < 0xDC00 || low > 0xDFFF)
            return -1;
        v = 0x10000 + ((v - 0xD800) << 10) + (low - 0xDC00);
    }
    *len = s_utf8_encode (v, out);
    return 0;
}

//  A string, from past its opening quote to past its closing one. Its decoded text goes
//  to out (NUL-terminated) when out is given and it fits in cap - 1 bytes; returns 1
//  when it did, 0 when it did not (or out is NULL), -1 when the string is malformed.
static int
s_string (s_scan_t *s, char *out, size_t cap)
{
    size_t n = 0;
    bool fits = out != NULL;
    while (true) {
        //  Most of an answer is plain ASCII that nobody keeps: step over it at once.
        if (!fits)
            while (s->p < s->end && *s->p >= 0x20 && *s->p < 0x80 && *s->p != '"'
               &&  *s->p != '\\')
                s->p++;
        if (s->p >= s->end || *s->p < 0x20)
            return -1;
        unsigned char buf [4];
        const unsigned char *from = s->p;
        size_t len = 1;
        if (*s->p == '"') {
            s->p++;
            break;
        }
        if (*s->p == '\\') {
            s->p++;
            if (s_escape (s, buf, &len))
                return -1;
            from = buf;
        }
        else
        if (*s->p >= 0x80) {
            int l = s_utf8_length (s->p, s->end);
            if (l < 0)
                return -1;
            len = (size_t) l;
            s->p += len;
        }
        else
            s->p++;
        if (fits && n + len < cap) {
            memcpy (out + n, from, len);
            n += len;
        }
        else
            fits = false;
    }
    if (fits)
        out [n] = '\0';
    return fits;
}

//  A number, as jansson reads it: no leading zero, digits after '.' and after 'e'. An
//  integer must fit in 64 bits; a real must not overflow.
static int
s_number (s_scan_t *s, bool *is_integer, long long *integer)
{
    const unsigned char *start = s->p;
    if (s->p < s->end && *s->p == '-')
        s->p++;
    if (!s_digit (s))
        return -1;
    if (*s->p++ != '0')
        while (s_digit (s))
            s->p++;
    else
    if (s_digit (s))
        return -1;
    bool real = false;
    if (s->p < s->end && *s->p == '.') {
        s->p++;
        if (s_digits (s))
            return -1;
        real = true;
    }
    if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
        s->p++;
        if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
            s->p++;
        if (s_digits (s))
            return -1;
        real = true;
    }
    size_t n = (size_t) (s->p - start);
    if (!real && n > 20)
        return -1;              //  past 64 bits whatever the digits (no leading zero)
    char small [64];
    char *text = n < sizeof small ? small : malloc (n + 1);
    if (!text)
        return -1;
    memcpy (text, start, n);
    text [n] = '\0';
    int rc = 0;
    errno = 0;
    if (real) {
        double d = strtod (text, NULL);
        rc = (d == HUGE_VAL || d == -HUGE_VAL) && errno == ERANGE ? -1 : 0;
    }
    else {
        *integer = strtoll (text, NULL, 10);
        rc = errno == ERANGE ? -1 : 0;
    }
    *is_integer = !real;
    if (text != small)
        free (text);
    return rc;
}

static int
s_literal (s_scan_t *s, const char *word)
{
    size_t n = strlen (word);
    if ((size_t) (s->end - s->p) < n || memcmp (s->p, word, n))
        return -1;
    s->p += n;
    return 0;
}

//  A value's first bytes: a scalar whole, or a container opened.
static s_state_t
s_value (s_scan_t *s)
{
    s_skip_space (s);
    if (s->p >= s->end || s->depth + 1 > JSONSCAN_DEPTH_MAX)
        return S_FAILED;
    jsonscan_top_t *top = s->top;
    //  The value of a top-level member: the last "id" and "version" are the ones kept.
    s_key_t member = s->depth == 1 && s->open [0] == '{' ? s->key : S_KEY_OTHER;
    if (member == S_KEY_ID)
        top->has_id = false;
    if (member == S_KEY_VERSION)
        top->has_version = false;

    unsigned char ch = *s->p;
    if (ch == '{' || ch == '[') {
        if (s->depth == 0)
            top->is_object = ch == '{';
        s->open [s->depth++] = ch;
        s->p++;
        s_skip_space (s);
        if (s->p < s->end && *s->p == (ch == '{' ? '}' : ']')) {
            s->p++;
            s->depth--;
            return S_AFTER;
        }
        return ch == '{' ? S_MEMBER : S_VALUE;
    }
    if (ch == '"') {
        s->p++;
        int got = s_string (s, member == S_KEY_ID ? top->id : NULL, sizeof top->id);
        if (got < 0)
            return S_FAILED;
        if (member == S_KEY_ID)
            top->has_id = got == 1;
        return S_AFTER;
    }
    if (ch == 't' || ch == 'f' || ch == 'n')
        return s_literal (s, ch == 't' ? "true" : ch == 'f' ? "false" : "null") ? S_FAILED
                                                                                 : S_AFTER;
    bool is_integer = false;
    long long integer = 0;
    if (s_number (s, &is_integer, &integer))
        return S_FAILED;
    if (member == S_KEY_VERSION && is_integer) {
        top->has_version = true;
        top->version = integer;
    }
    return S_AFTER;
}

//  An object's key and its colon.
static s_state_t
s_member (s_scan_t *s)
{
    s_skip_space (s);
    if (s->p >= s->end || *s->p != '"')
        return S_FAILED;
    s->p++;
    char key [sizeof "version"];
    int got = s_string (s, s->depth == 1 ? key : NULL, sizeof key);
    if (got < 0)
        return S_FAILED;
    s->key = got == 1 && !strcmp (key, "id") ? S_KEY_ID
           : got == 1 && !strcmp (key, "version") ? S_KEY_VERSION : S_KEY_OTHER;
    s_skip_space (s);
    if (s->p >= s->end || *s->p != ':')
        return S_FAILED;
    s->p++;
    return S_VALUE;
}

//  What may follow a value: the end of the text, a comma, or its container's close.
static s_state_t
s_after (s_scan_t *s)
{
    s_skip_space (s);
    if (s->depth == 0)
        return s->p == s->end ? S_DONE : S_FAILED;
    if (s->p >= s->end)
        return S_FAILED;
    unsigned char open = s->open [s->depth - 1];
    if (*s->p == ',') {
        s->p++;
        return open == '{' ? S_MEMBER : S_VALUE;
    }
    if (*s->p == (open == '{' ? '}' : ']')) {
        s->p++;
        s->depth--;
        return S_AFTER;
    }
    return S_FAILED;
}

int
jsonscan_check (const char *text, size_t len, jsonscan_top_t *top)
{
    jsonscan_top_t unused;
    s_scan_t s;                 //  not zeroed whole: open [] is written before it is read
    s.p = (const unsigned char *) text;
    s.end = s.p + (text ? len : 0);
    s.depth = 0;
    s.key = S_KEY_OTHER;
    s.top = top ? top : &unused;
    memset (s.top, 0, sizeof *s.top);
    s_state_t state = S_VALUE;
    while (state != S_DONE && state != S_FAILED)
        state = state == S_VALUE ? s_value (&s) : state == S_MEMBER ? s_member (&s) : s_after (&s);
    if (state == S_FAILED)
        memset (s.top, 0, sizeof *s.top);
    return state == S_DONE ? 0 : -1;
}
