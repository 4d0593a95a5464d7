/*  jobbody: an incremental, validating JSON tokenizer (a pushdown state machine over RFC
    8259) for POST /api/jobs bodies. Owns the rest buffer and the ids (idlist.c); never
    holds the text of an id, so a 40 MB body of a million ids costs 16 MB, not a json_t
    each.  */
#include "jobbody.h"
#include "../common/log.h"
#include "../common/uuid.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  What the next byte may be.
enum {
    S_VALUE,            //  a value (at depth 0 before anything: the start)
    S_VALUE_OR_END,     //  after '[': a value or ']'
    S_KEY_OR_END,       //  after '{': a key or '}'
    S_KEY,              //  after ',' in an object: a key
    S_COLON,            //  after a key
    S_NEXT,             //  after a value in a container: ',' or its closer
    S_DONE,             //  after the top-level value: whitespace only
    S_STR,              //  inside a string we only check
    S_STR_KEEP,         //  inside a string whose text we need (a key on the path, an id)
    S_ESC,              //  after a backslash
    S_HEX,              //  inside \uXXXX
    S_NUM,              //  inside a number (where in self->num)
    S_LIT,              //  inside true, false or null
    S_FAILED
};

//  Where in a number: -?(0|[1-9]d*)(.d+)?([eE][+-]?d+)?
enum { N_MINUS, N_ZERO, N_INT, N_DOT, N_FRAC, N_E, N_ESIGN, N_EXP };

//  What a string is, so its end knows what comes next.
enum { K_VALUE, K_KEY, K_ELEM };

//  What the value about to start is to the path payload.ticketIds.
enum { V_NONE, V_TOP, V_PAYLOAD, V_IDS, V_ELEM };

//  What an open container is on that path.
enum { R_NONE, R_TOP, R_PAYLOAD, R_IDS };

//  Decoded text kept of a string: a uuid's length and one more to see it is too long.
#define KEEP_MAX (UUID_STRLEN + 1)
//  Non-ASCII decoded from \uXXXX: never part of a key we look for or of a uuid.
#define NON_ASCII 0x80

#define REST_INITIAL 1024

struct _jobbody_t {
    size_t max_rest;                //  rest bytes at most

    //  Tokenizer
    int state;                      //  S_*
    int num;                        //  N_* inside a number
    int str_kind;                   //  K_* inside a string
    int str_state;                  //  S_STR or S_STR_KEEP, to go back to after an escape
    int hex_left;                   //  hex digits still due in \uXXXX
    unsigned hex_value;
    const char *lit;                //  the literal being matched, and how far
    size_t lit_pos;
    int value_role;                 //  V_* of the next value
    size_t depth;
    unsigned char kind [JOBBODY_DEPTH_MAX];     //  '{' or '['
    unsigned char role [JOBBODY_DEPTH_MAX];     //  R_*
    char keep [KEEP_MAX];           //  decoded text of a kept string, cut at KEEP_MAX
    size_t keep_len;                //  its full decoded length
    size_t offset;                  //  bytes of earlier feeds
    bool copying;                   //  bytes go to rest (false inside the ids array)
    const unsigned char *run;       //  in the current feed: first byte not yet copied

    //  Results
    char *rest;                     //  rest_cap > rest_len, so it can be NUL-terminated
    size_t rest_len, rest_cap;
    idlist_t *ids;                  //  the elements of payload.ticketIds
    bool ids_seen, repeated;

    bool finished, too_big, out_of_memory;
    char error [96];
};

jobbody_t *
jobbody_new (size_t max_ids, size_t max_rest)
{
    jobbody_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    //  Clamped so that sizes computed from them cannot wrap.
    self->ids = idlist_new (max_ids < SIZE_MAX / 64 ? max_ids : SIZE_MAX / 64);
    if (!self->ids) {
        free (self);
        return NULL;
    }
    self->max_rest = max_rest < SIZE_MAX / 4 ? max_rest : SIZE_MAX / 4;
    self->state = S_VALUE;
    self->value_role = V_TOP;
    self->copying = true;
    return self;
}

void
jobbody_destroy (jobbody_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    jobbody_t *self = *self_p;
    free (self->rest);
    idlist_destroy (&self->ids);
    free (self);
    *self_p = NULL;
}

//  Records why the body failed, once; returns S_FAILED for the caller to pass on.
static int
s_fail (jobbody_t *self, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (self->error, sizeof self->error, fmt, ap);
    va_end (ap);
    self->state = S_FAILED;
    return S_FAILED;
}

static size_t
s_pos (jobbody_t *self, const unsigned char *base, const unsigned char *p)
{
    return self->offset + (size_t) (p - base);
}

static int
s_unexpected (jobbody_t *self, const unsigned char *base, const unsigned char *p)
{
    unsigned char c = *p;
    if (c >= 0x20 && c < 0x7f)
        return s_fail (self, "unexpected '%c' at byte %zu", c, s_pos (self, base, p));
    return s_fail (self, "unexpected byte 0x%02x at byte %zu", c, s_pos (self, base, p));
}

//  Appends to rest; -1 (too big) when it would pass max_rest.
static int
s_rest_add (jobbody_t *self, const unsigned char *from, size_t n)
{
    if (n == 0)
        return 0;
    if (n > self->max_rest - self->rest_len) {
        self->too_big = true;
        s_fail (self, "body without ticketIds over %zu bytes", self->max_rest);
        return -1;
    }
    if (self->rest_len + n >= self->rest_cap) {
        size_t cap = self->rest_cap ? self->rest_cap : REST_INITIAL;
        while (cap <= self->rest_len + n)
            cap *= 2;
        if (cap > self->max_rest + 1)
            cap = self->max_rest + 1;
        char *rest = realloc (self->rest, cap);
        if (!rest) {
            log_error ("event=jobbody_oom bytes=%zu", cap);
            self->out_of_memory = true;
            s_fail (self, "out of memory for %zu bytes", cap);
            return -1;
        }
        self->rest = rest;
        self->rest_cap = cap;
    }
    memcpy (self->rest + self->rest_len, from, n);
    self->rest_len += n;
    return 0;
}

static int
s_push (jobbody_t *self, const unsigned char *base, const unsigned char *p, int role)
{
    if (self->depth == JOBBODY_DEPTH_MAX)
        return s_fail (self, "nested too deeply at byte %zu (over %d levels)",
                       s_pos (self, base, p), JOBBODY_DEPTH_MAX);
    self->kind [self->depth] = *p;
    self->role [self->depth] = (unsigned char) role;
    self->depth++;
    return 0;
}

//  What follows a complete value.
static inline int
s_value_end (jobbody_t *self)
{
    return self->depth ? S_NEXT : S_DONE;
}

//  The role of the next value in the innermost container, an array.
static inline int
s_array_role (jobbody_t *self)
{
    return self->role [self->depth - 1] == R_IDS ? V_ELEM : V_NONE;
}

//  The ids' store ran out of memory (idlist.c logged how much it wanted).
static int
s_ids_oom (jobbody_t *self)
{
    self->out_of_memory = true;
    return s_fail (self, "out of memory for ids");
}

//  An element string of the ids array ended: store it, or count it bad.
static int
s_element_end (jobbody_t *self)
{
    int rc = self->keep_len == UUID_STRLEN ? idlist_put (self->ids, self->keep) : 0;
    if (rc < 0)
        return s_ids_oom (self);
    if (rc == 0)
        idlist_bad (self->ids);
    return s_value_end (self);
}

//  A key ended: decide what its value is to the path.
static int
s_key_end (jobbody_t *self)
{
    self->value_role = V_NONE;
    if (self->str_state == S_STR_KEEP) {
        int role = self->role [self->depth - 1];
        if (role == R_TOP && self->keep_len == 7 && !memcmp (self->keep, "payload", 7))
            self->value_role = V_PAYLOAD;
        else
        if (role == R_PAYLOAD && self->keep_len == 9 && !memcmp (self->keep, "ticketIds", 9))
            self->value_role = V_IDS;
    }
    return S_COLON;
}

static int
s_string_end (jobbody_t *self)
{
    if (self->str_kind == K_KEY)
        return s_key_end (self);
    if (self->str_kind == K_ELEM)
        return s_element_end (self);
    return s_value_end (self);
}

//  Where a run of plain string bytes stopped: the closing quote, an escape, or a byte
//  JSON does not allow in a string.
static int
s_string_stop (jobbody_t *self, unsigned char c, const unsigned char *base, const unsigned char *p)
{
    if (c == '"')
        return s_string_end (self);
    if (c == '\\')
        return S_ESC;
    return s_unexpected (self, base, p);
}

//  A key starts: its text is kept only in the objects on the path.
static int
s_key_start (jobbody_t *self)
{
    int role = self->role [self->depth - 1];
    self->str_kind = K_KEY;
    self->keep_len = 0;
    self->str_state = role == R_TOP || role == R_PAYLOAD ? S_STR_KEEP : S_STR;
    return self->str_state;
}

static int
s_value_start (jobbody_t *self, const unsigned char *base, const unsigned char *p)
{
    int role = self->value_role;
    unsigned char c = *p;
    if (role == V_ELEM)
        idlist_element (self->ids, c == '"');
    switch (c) {
        case '"':
            self->keep_len = 0;
            self->str_kind = role == V_ELEM ? K_ELEM : K_VALUE;
            self->str_state = role == V_ELEM ? S_STR_KEEP : S_STR;
            return self->str_state;
        case '{':
            if (s_push (self, base, p, role == V_TOP ? R_TOP
                                     : role == V_PAYLOAD ? R_PAYLOAD : R_NONE))
                return S_FAILED;
            return S_KEY_OR_END;
        case '[':
            if (s_push (self, base, p, role == V_IDS ? R_IDS : R_NONE))
                return S_FAILED;
            if (role == V_IDS) {
                if (self->ids_seen)
                    self->repeated = true;
                self->ids_seen = true;
                //  Rest keeps the '[' and skips everything up to the matching ']'.
                if (s_rest_add (self, self->run, (size_t) (p + 1 - self->run)))
                    return S_FAILED;
                self->copying = false;
                self->run = NULL;
            }
            self->value_role = s_array_role (self);
            return S_VALUE_OR_END;
        case '-':
            self->num = N_MINUS;
            return S_NUM;
        case '0':
            self->num = N_ZERO;
            return S_NUM;
        case '1': case '2': case '3': case '4': case '5':
        case '6': case '7': case '8': case '9':
            self->num = N_INT;
            return S_NUM;
        case 't':
            self->lit = "true";
            self->lit_pos = 1;
            return S_LIT;
        case 'f':
            self->lit = "false";
            self->lit_pos = 1;
            return S_LIT;
        case 'n':
            self->lit = "null";
            self->lit_pos = 1;
            return S_LIT;
        default:
            return s_unexpected (self, base, p);
    }
}

//  A '}' or ']' where a closer may come.
static int
s_close (jobbody_t *self, const unsigned char *base, const unsigned char *p)
{
    unsigned char open = *p == '}' ? '{' : '[';
    if (self->depth == 0 || self->kind [self->depth - 1] != open)
        return s_unexpected (self, base, p);
    self->depth--;
    if (self->role [self->depth] == R_IDS) {
        self->copying = true;
        self->run = p;
    }
    return s_value_end (self);
}

static inline bool
s_space (unsigned char c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

static inline bool
s_digit (unsigned char c)
{
    return c >= '0' && c <= '9';
}

static inline int
s_hex (unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

//  Where jobbody_feed is in the piece it was given. Each state has a helper that reads
//  from p, may move it, returns the next state and says what the loop does next (as
//  Redis' processInputBuffer hands each request type to its own function).
typedef struct {
    const unsigned char *base;      //  the piece's first byte (for positions in errors)
    const unsigned char *p;         //  the byte being looked at
    const unsigned char *end;
} s_cursor_t;

typedef enum {
    GO_NEXT,                        //  the byte at p is consumed: step past it
    GO_AGAIN,                       //  look at the byte at p again, in the new state
    GO_OUT                          //  the piece ran out inside this state: wait for more
} s_go_t;

//  Moves p past whitespace; false when the piece runs out first.
static bool
s_skip_space (s_cursor_t *cur)
{
    while (s_space (*cur->p))
        if (++cur->p == cur->end)
            return false;
    return true;
}

//  Between tokens: a value, a key, a colon, a comma or a closing bracket.
static int
s_between (jobbody_t *self, int st, s_cursor_t *cur, s_go_t *go)
{
    if (!s_skip_space (cur)) {
        *go = GO_OUT;
        return st;
    }
    const unsigned char *base = cur->base, *p = cur->p;
    unsigned char c = *p;
    switch (st) {
        case S_VALUE:
            return s_value_start (self, base, p);
        case S_VALUE_OR_END:
            return c == ']' ? s_close (self, base, p) : s_value_start (self, base, p);
        case S_KEY_OR_END:
            if (c == '}')
                return s_close (self, base, p);
            return c == '"' ? s_key_start (self) : s_unexpected (self, base, p);
        case S_KEY:
            return c == '"' ? s_key_start (self) : s_unexpected (self, base, p);
        case S_COLON:
            return c == ':' ? S_VALUE : s_unexpected (self, base, p);
        case S_NEXT:
            if (c == ',') {
                if (self->kind [self->depth - 1] == '{')
                    return S_KEY;
                self->value_role = s_array_role (self);
                return S_VALUE;
            }
            if (c == '}' || c == ']')
                return s_close (self, base, p);
            return s_unexpected (self, base, p);
        default:    //  S_DONE
            return s_unexpected (self, base, p);
    }
}

//  Inside a string nobody keeps (a key or value the edge only copies as text).
static int
s_string (jobbody_t *self, s_cursor_t *cur, s_go_t *go)
{
    unsigned char c = *cur->p;
    while (c != '"' && c != '\\' && c >= 0x20) {
        if (++cur->p == cur->end) {
            *go = GO_OUT;
            return S_STR;
        }
        c = *cur->p;
    }
    return s_string_stop (self, c, cur->base, cur->p);
}

//  Inside a string we keep (a key, the type, an id): an id whole in this piece is decoded
//  in place; anything else goes byte by byte into keep.
static int
s_string_keep (jobbody_t *self, s_cursor_t *cur, s_go_t *go)
{
    const unsigned char *p = cur->p, *end = cur->end;
    //  An id has no quote, backslash or control byte, so this agrees with the byte loop.
    //  One that is not an id is read again below, which finds why (an escape, a bad byte).
    if (self->str_kind == K_ELEM && self->keep_len == 0
    &&  end - p > UUID_STRLEN && p [UUID_STRLEN] == '"') {
        int rc = idlist_put (self->ids, (const char *) p);
        if (rc < 0)
            return s_ids_oom (self);
        if (rc > 0) {
            cur->p += UUID_STRLEN;
            return s_value_end (self);
        }
    }
    //  Locals: stores through char * would otherwise reload self each byte.
    size_t n = self->keep_len;
    char *keep = self->keep;
    unsigned char c = *p;
    while (c != '"' && c != '\\' && c >= 0x20) {
        if (n < KEEP_MAX)
            keep [n] = (char) c;
        n++;
        if (++p == end) {
            self->keep_len = n;
            cur->p = p;
            *go = GO_OUT;
            return S_STR_KEEP;
        }
        c = *p;
    }
    self->keep_len = n;
    cur->p = p;
    return s_string_stop (self, c, cur->base, p);
}

//  Keeps a decoded string byte, when the string is kept at all.
static void
s_keep_byte (jobbody_t *self, char byte)
{
    if (self->str_state != S_STR_KEEP)
        return;
    if (self->keep_len < KEEP_MAX)
        self->keep [self->keep_len] = byte;
    self->keep_len++;
}

//  The byte after a backslash.
static int
s_escape (jobbody_t *self, const s_cursor_t *cur)
{
    unsigned char c = *cur->p;
    static const char from [] = "\"\\/bfnrt", to [] = "\"\\/\b\f\n\r\t";
    const char *hit = c ? strchr (from, c) : NULL;
    if (hit) {
        s_keep_byte (self, to [hit - from]);
        return self->str_state;
    }
    if (c == 'u') {
        self->hex_left = 4;
        self->hex_value = 0;
        return S_HEX;
    }
    return s_fail (self, "bad escape '\\%c' at byte %zu", c >= 0x20 && c < 0x7f ? c : '?',
                   s_pos (self, cur->base, cur->p));
}

//  One of a \u escape's four hex digits. Non-ASCII is kept as NON_ASCII: nothing we keep
//  may hold it (an id, a type), so it only has to fail their checks.
static int
s_escape_hex (jobbody_t *self, const s_cursor_t *cur)
{
    int h = s_hex (*cur->p);
    if (h < 0)
        return s_fail (self, "bad \\u escape at byte %zu", s_pos (self, cur->base, cur->p));
    self->hex_value = self->hex_value << 4 | (unsigned) h;
    if (--self->hex_left)
        return S_HEX;
    s_keep_byte (self, (char) (self->hex_value < 0x80 ? self->hex_value : NON_ASCII));
    return self->str_state;
}

//  Moves p past digits; false when the piece runs out first.
static bool
s_skip_digits (s_cursor_t *cur)
{
    while (s_digit (*cur->p))
        if (++cur->p == cur->end)
            return false;
    return true;
}

//  A number, JSON's grammar one byte at a time (self->num is where in it we are). The
//  byte that ends it belongs to what follows, so it is looked at again.
static int
s_number (jobbody_t *self, s_cursor_t *cur, s_go_t *go)
{
    unsigned char c = *cur->p;
    switch (self->num) {
        case N_MINUS:
            if (!s_digit (c))
                return s_unexpected (self, cur->base, cur->p);
            self->num = c == '0' ? N_ZERO : N_INT;
            return S_NUM;
        case N_INT:
        case N_FRAC:
        case N_EXP:
            if (!s_skip_digits (cur)) {
                *go = GO_OUT;
                return S_NUM;
            }
            c = *cur->p;
            if (self->num == N_INT && c == '.') {
                self->num = N_DOT;
                return S_NUM;
            }
            if (self->num != N_EXP && (c == 'e' || c == 'E')) {
                self->num = N_E;
                return S_NUM;
            }
            *go = GO_AGAIN;
            return s_value_end (self);
        case N_ZERO:
            if (c == '.')
                self->num = N_DOT;
            else
            if (c == 'e' || c == 'E')
                self->num = N_E;
            else {
                *go = GO_AGAIN;
                return s_value_end (self);
            }
            return S_NUM;
        case N_DOT:
        case N_ESIGN:
            if (!s_digit (c))
                return s_unexpected (self, cur->base, cur->p);
            self->num = self->num == N_DOT ? N_FRAC : N_EXP;
            return S_NUM;
        default:    //  N_E
            if (c == '+' || c == '-')
                self->num = N_ESIGN;
            else
            if (s_digit (c))
                self->num = N_EXP;
            else
                return s_unexpected (self, cur->base, cur->p);
            return S_NUM;
    }
}

//  true, false or null, one letter at a time.
static int
s_literal (jobbody_t *self, const s_cursor_t *cur)
{
    if (*cur->p != (unsigned char) self->lit [self->lit_pos])
        return s_unexpected (self, cur->base, cur->p);
    if (self->lit [++self->lit_pos] == 0)
        return s_value_end (self);
    return S_LIT;
}

static int
s_step (jobbody_t *self, int st, s_cursor_t *cur, s_go_t *go)
{
    switch (st) {
        case S_STR:         return s_string (self, cur, go);
        case S_STR_KEEP:    return s_string_keep (self, cur, go);
        case S_ESC:         return s_escape (self, cur);
        case S_HEX:         return s_escape_hex (self, cur);
        case S_NUM:         return s_number (self, cur, go);
        case S_LIT:         return s_literal (self, cur);
        case S_VALUE:
        case S_VALUE_OR_END:
        case S_KEY_OR_END:
        case S_KEY:
        case S_COLON:
        case S_NEXT:
        case S_DONE:        return s_between (self, st, cur, go);
        default:            return S_FAILED;
    }
}

int
jobbody_feed (jobbody_t *self, const char *data, size_t len)
{
    if (!self || self->state == S_FAILED)
        return -1;
    if (self->finished) {
        s_fail (self, "data after the end of the body at byte %zu", self->offset);
        return -1;
    }
    if (len == 0)
        return 0;
    const unsigned char *base = (const unsigned char *) data;
    s_cursor_t cur = { base, base, base + len };
    self->run = self->copying ? base : NULL;
    int st = self->state;
    while (cur.p < cur.end) {
        s_go_t go = GO_NEXT;
        st = s_step (self, st, &cur, &go);
        if (go == GO_OUT || st == S_FAILED)
            break;
        if (go == GO_NEXT)
            cur.p++;
    }
    if (st == S_FAILED) {
        //  Rest up to the error byte counts first, so the verdict (413 or 400) does not
        //  depend on where the body was split.
        if (self->copying && self->run && !self->too_big && cur.p > self->run
        &&  (size_t) (cur.p - self->run) > self->max_rest - self->rest_len) {
            self->too_big = true;
            s_fail (self, "body without ticketIds over %zu bytes", self->max_rest);
        }
        self->state = S_FAILED;
        return -1;
    }
    self->state = st;
    if (self->copying && s_rest_add (self, self->run, (size_t) (cur.end - self->run))) {
        self->state = S_FAILED;
        return -1;
    }
    self->run = NULL;
    self->offset += len;
    return 0;
}

int
jobbody_finish (jobbody_t *self)
{
    if (!self || self->state == S_FAILED)
        return -1;
    if (self->finished)
        return 0;
    int st = self->state;
    if (st == S_NUM && self->depth == 0
    && (self->num == N_ZERO || self->num == N_INT || self->num == N_FRAC || self->num == N_EXP))
        st = S_DONE;
    if (st != S_DONE) {
        if (st == S_VALUE && self->depth == 0)
            s_fail (self, "empty body");
        else
            s_fail (self, "unexpected end of body at byte %zu", self->offset);
        return -1;
    }
    //  NUL-terminate: rest_cap > rest_len always holds once allocated.
    if (!self->rest) {
        self->rest = malloc (1);
        if (!self->rest) {
            self->out_of_memory = true;
            s_fail (self, "out of memory");
            return -1;
        }
        self->rest_cap = 1;
    }
    self->rest [self->rest_len] = 0;
    self->finished = true;
    return 0;
}

const char *
jobbody_error (jobbody_t *self)
{
    return self ? self->error : "";
}

bool
jobbody_too_big (jobbody_t *self)
{
    return self && self->too_big;
}

size_t
jobbody_memory (const jobbody_t *self)
{
    return sizeof *self + self->rest_cap + idlist_memory (self->ids);
}

bool
jobbody_out_of_memory (jobbody_t *self)
{
    return self && self->out_of_memory;
}

const char *
jobbody_rest (jobbody_t *self, size_t *len)
{
    bool ok = self && self->finished && self->state != S_FAILED;
    if (len)
        *len = ok ? self->rest_len : 0;
    return ok ? self->rest : NULL;
}

bool
jobbody_ids_seen (jobbody_t *self)
{
    return self && self->ids_seen;
}

bool
jobbody_repeated (jobbody_t *self)
{
    return self && self->repeated;
}

size_t
jobbody_count (jobbody_t *self)
{
    return self ? idlist_count (self->ids) : 0;
}

size_t
jobbody_bad_count (jobbody_t *self)
{
    return self ? idlist_bad_count (self->ids) : 0;
}

size_t
jobbody_bad_index (jobbody_t *self, size_t i)
{
    return self ? idlist_bad_index (self->ids, i) : (size_t) -1;
}

unsigned char *
jobbody_take_ids (jobbody_t *self, size_t *count)
{
    size_t n = 0;
    unsigned char *ids = self ? idlist_take (self->ids, &n) : NULL;
    if (count)
        *count = n;
    return ids;
}
