/*  jsonw: a JSON writer into one bounded buffer. Escaping follows jansson 2.14's dump.c
    (JSON_COMPACT, no flags): '"' and '\\' and the controls below 0x20 are escaped (\b \f \n
    \r \t by name, the rest as \u00XX in upper-case hex), everything else, '/' and DEL and
    U+2028 included, is copied as it is; UTF-8 is checked as jansson's utf.c checks it.  */
#include "jsonw.h"

#include <stdlib.h>
#include <string.h>

#define JSONW_SIZE_MIN  512

void
jsonw_init (jsonw_t *self, size_t max)
{
    *self = (jsonw_t) { .max = max };
}

void
jsonw_reset (jsonw_t *self)
{
    free (self->data);
    jsonw_init (self, self->max);
}

//  Room for n more bytes and the NUL; false (error set) when they would pass max or memory
//  ran out: the text is then never sent, so the bytes already written do not matter.
static bool
s_room (jsonw_t *self, size_t n)
{
    if (self->error)
        return false;
    if (n > self->max - self->len) {
        self->error = JSONW_TOO_BIG;
        return false;
    }
    if (self->len + n + 1 <= self->size)
        return true;
    size_t size = self->size ? self->size : JSONW_SIZE_MIN;
    while (size < self->len + n + 1)
        size *= 2;
    if (size > self->max + 1)
        size = self->max + 1;
    char *data = realloc (self->data, size);
    if (!data) {
        self->error = JSONW_TOO_BIG;
        return false;
    }
    self->data = data;
    self->size = size;
    return true;
}

static void
s_put (jsonw_t *self, const char *bytes, size_t n)
{
    if (s_room (self, n)) {
        memcpy (self->data + self->len, bytes, n);
        self->len += n;
    }
}

//  Opens a value (or a key): the comma that separates it from the one before.
static void
s_open (jsonw_t *self)
{
    if (self->comma)
        s_put (self, ",", 1);
}

//  Opens a container with c after the comma it needs; its first member needs none.
static void
s_begin (jsonw_t *self, char c)
{
    s_open (self);
    s_put (self, &c, 1);
    self->comma = false;
}

//  Closes a container, which is a value the next one is separated from.
static void
s_end (jsonw_t *self, char c)
{
    s_put (self, &c, 1);
    self->comma = true;
}

void jsonw_object_begin (jsonw_t *self) { s_begin (self, '{'); }
void jsonw_object_end (jsonw_t *self)   { s_end (self, '}'); }
void jsonw_array_begin (jsonw_t *self)  { s_begin (self, '['); }
void jsonw_array_end (jsonw_t *self)    { s_end (self, ']'); }

//  The length of the UTF-8 sequence at s (at most len bytes), or 0 when jansson's
//  utf8_check_first / utf8_check_full would refuse it.
static size_t
s_utf8_len (const unsigned char *s, size_t len)
{
    unsigned char u = s [0];
    size_t n;
    long value;
    if (u >= 0xC2 && u <= 0xDF)
        n = 2, value = u & 0x1F;
    else
    if (u >= 0xE0 && u <= 0xEF)
        n = 3, value = u & 0x0F;
    else
    if (u >= 0xF0 && u <= 0xF4)
        n = 4, value = u & 0x07;
    else
        return 0;                   //  a continuation byte, 0xC0, 0xC1 or past 0xF4
    if (n > len)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if (s [i] < 0x80 || s [i] > 0xBF)
            return 0;
        value = (value << 6) | (s [i] & 0x3F);
    }
    if (value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)
    ||  (n == 3 && value < 0x800) || (n == 4 && value < 0x10000))
        return 0;
    return n;
}

//  The escape of byte c that needs one, else NULL; seq holds a \u00XX one.
static const char *
s_escape (unsigned char c, char seq [7])
{
    static const char hex [] = "0123456789ABCDEF";
    switch (c) {
        case '"':  return "\\\"";
        case '\\': return "\\\\";
        case '\b': return "\\b";
        case '\f': return "\\f";
        case '\n': return "\\n";
        case '\r': return "\\r";
        case '\t': return "\\t";
        default:
            if (c >= 0x20)
                return NULL;
            memcpy (seq, "\\u00", 4);
            seq [4] = hex [c >> 4];
            seq [5] = hex [c & 15];
            seq [6] = 0;
            return seq;
    }
}

//  How many bytes from s on are printable ASCII that needs no escape: most of a ticket.
static size_t
s_plain_run (const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len && s [i] >= 0x20 && s [i] < 0x80 && s [i] != '"' && s [i] != '\\')
        i++;
    return i;
}

//  Writes s as a string's content: runs that need no escape are copied whole.
static void
s_string_body (jsonw_t *self, const unsigned char *s, size_t len)
{
    size_t run = 0, i = 0;
    while (i < len && !self->error) {
        i += s_plain_run (s + i, len - i);
        if (i == len)
            break;
        unsigned char c = s [i];
        if (c >= 0x80) {
            size_t n = s_utf8_len (s + i, len - i);
            if (n == 0)
                self->error = JSONW_NOT_UTF8;
            i += n;
            continue;
        }
        char seq [7];
        const char *escape = s_escape (c, seq);
        s_put (self, (const char *) s + run, i - run);
        s_put (self, escape, strlen (escape));
        run = ++i;
    }
    s_put (self, (const char *) s + run, i - run);
}

//  Writes "s" followed by tail (a ':' or nothing), in one copy when s needs no escape.
static void
s_string (jsonw_t *self, const char *s, size_t len, const char *tail, size_t tail_len)
{
    s_open (self);
    if (s_plain_run ((const unsigned char *) s, len) == len) {
        if (s_room (self, len + 2 + tail_len)) {
            char *p = self->data + self->len;
            *p++ = '"';
            memcpy (p, s, len);
            p += len;
            *p++ = '"';
            memcpy (p, tail, tail_len);
            self->len += len + 2 + tail_len;
        }
    }
    else {
        s_put (self, "\"", 1);
        s_string_body (self, (const unsigned char *) s, len);
        s_put (self, "\"", 1);
        s_put (self, tail, tail_len);
    }
}

void
jsonw_string (jsonw_t *self, const char *s, size_t len)
{
    s_string (self, s, len, "", 0);
    self->comma = true;
}

void
jsonw_key (jsonw_t *self, const char *key)
{
    s_string (self, key, strlen (key), ":", 1);
    self->comma = false;
}

void
jsonw_integer (jsonw_t *self, long long value)
{
    char digits [24];
    char *p = digits + sizeof digits;
    //  In unsigned arithmetic, so that LLONG_MIN has a magnitude too.
    unsigned long long magnitude = value < 0 ? 0ULL - (unsigned long long) value
                                             : (unsigned long long) value;
    do
        *--p = (char) ('0' + magnitude % 10);
    while (magnitude /= 10);
    if (value < 0)
        *--p = '-';
    jsonw_raw (self, p, (size_t) (digits + sizeof digits - p));
}

void
jsonw_bool (jsonw_t *self, bool value)
{
    jsonw_raw (self, value ? "true" : "false", value ? 4 : 5);
}

void
jsonw_null (jsonw_t *self)
{
    jsonw_raw (self, "null", 4);
}

void
jsonw_raw (jsonw_t *self, const char *text, size_t len)
{
    s_open (self);
    s_put (self, text, len);
    self->comma = true;
}

char *
jsonw_take (jsonw_t *self, size_t *len_p)
{
    char *text = NULL;
    if (s_room (self, 0)) {
        text = self->data;
        text [self->len] = 0;
        *len_p = self->len;
        self->data = NULL;
    }
    else
        *len_p = 0;
    jsonw_error_t error = self->error;
    jsonw_reset (self);
    self->error = error;
    return text;
}

const char *
jsonw_error_name (jsonw_error_t error)
{
    return error == JSONW_TOO_BIG ? "too_big" : error == JSONW_NOT_UTF8 ? "not_utf8" : "none";
}
