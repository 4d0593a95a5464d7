/*  fuzz_jwt: the Authorization token as the edge and the hub check it, through
    common/jwt.c's jwt_hs256_verify. The first input byte picks what the rest is:
      0  the token text itself (almost never signed: exercises the shape checks)
      1  a claims JSON, signed here with the right key under an HS256 header, so the
         fuzzer reaches the claim checks behind the signature
      2  "<header JSON>\n<claims JSON>", signed with the right key as HS256 whatever the
         header says (e.g. "alg":"none" or "HS512" must still be refused)
    An accepted token has a uuid sub, a role and an exp after now; verifying the same
    token twice (the second time from the cache) gives the same answer.  */
#include "../../common/jwt.h"
#include "../../common/log.h"
#include "fuzz_frames.h"
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define FUZZ_NOW    1700000000L
static const char s_secret [] = "fuzz-secret-0123456789abcdefghijklmnop";

static size_t
s_b64url (const uint8_t *in, size_t len, char *out)
{
    static const char abc [] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t) in [i] << 16;
        if (i + 1 < len) v |= (uint32_t) in [i + 1] << 8;
        if (i + 2 < len) v |= in [i + 2];
        out [o++] = abc [(v >> 18) & 63];
        out [o++] = abc [(v >> 12) & 63];
        if (i + 1 < len) out [o++] = abc [(v >> 6) & 63];
        if (i + 2 < len) out [o++] = abc [v & 63];
    }
    out [o] = 0;
    return o;
}

//  "b64(header).b64(claims).b64(HMAC-SHA256)"; caller frees.
static char *
s_signed (const uint8_t *header, size_t hlen, const uint8_t *claims, size_t clen)
{
    char *token = malloc ((hlen + clen) * 4 / 3 + 128);
    size_t n = s_b64url (header, hlen, token);
    token [n++] = '.';
    n += s_b64url (claims, clen, token + n);
    unsigned char mac [EVP_MAX_MD_SIZE];
    unsigned int mlen = 0;
    HMAC (EVP_sha256 (), s_secret, (int) strlen (s_secret), (const unsigned char *) token, n,
          mac, &mlen);
    token [n++] = '.';
    s_b64url (mac, mlen, token + n);
    return token;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    static jwt_hs256_t *jwt;
    if (!jwt) {
        log_set_level (LOG_ERROR);
        jwt = jwt_hs256_new (s_secret, strlen (s_secret), 3600);
        FUZZ_CHECK (jwt != NULL);
    }
    if (size == 0)
        return 0;
    uint8_t mode = data [0] % 3;
    data++, size--;
    char *token = NULL;
    if (mode == 0) {
        token = malloc (size + 1);
        memcpy (token, data, size);
        token [size] = 0;
    }
    else
    if (mode == 1) {
        static const char header [] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
        token = s_signed ((const uint8_t *) header, strlen (header), data, size);
    }
    else {
        const uint8_t *nl = memchr (data, '\n', size);
        size_t hlen = nl ? (size_t) (nl - data) : size;
        token = s_signed (data, hlen, nl ? nl + 1 : data + size, nl ? size - hlen - 1 : 0);
    }
    jwt_hs256_claims_t claims, again;
    const char *why = NULL, *why2 = NULL;
    int rc = jwt_hs256_verify (jwt, token, FUZZ_NOW, &claims, &why);
    FUZZ_CHECK ((rc == 0) == (why == NULL));
    if (rc == 0) {
        FUZZ_CHECK (uuid_valid (claims.sub));
        FUZZ_CHECK (claims.role == SVC_ROLE_ADMIN || claims.role == SVC_ROLE_AGENT);
        FUZZ_CHECK (claims.exp > FUZZ_NOW);
    }
    int rc2 = jwt_hs256_verify (jwt, token, FUZZ_NOW, &again, &why2);
    FUZZ_CHECK (rc == rc2 && why == why2);
    if (rc == 0)
        FUZZ_CHECK (!strcmp (claims.sub, again.sub) && claims.role == again.role
                    && claims.exp == again.exp);
    free (token);
    return 0;
}
