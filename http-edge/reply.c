/*  reply: error bodies and the status -> code table.  */
#include "reply.h"
#include "../common/log.h"

#include <stdlib.h>
#include <string.h>

char *
reply_error_json (const char *code, const char *message, json_t *details, size_t *len)
{
    json_t *root = json_pack ("{s:{s:s, s:s, s:o}}", "error", "code", code,
                              "message", message, "details", details ? details : json_array ());
    char *text = root ? json_dumps (root, JSON_COMPACT) : NULL;
    json_decref (root);
    if (!text) {
        //  Only allocation failure gets here; a constant body is still the contract.
        const char *fallback = "{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\",\"details\":[]}}";
        text = strdup (fallback);
        if (!text)
            PANIC ("event=oom where=reply_error_json");
    }
    if (len)
        *len = strlen (text);
    return text;
}

const char *
reply_code_for_status (int status)
{
    switch (status) {
        case 400: return "bad_request";
        case 401: return "unauthorized";
        case 403: return "forbidden";
        case 404: return "not_found";
        case 405: return "method_not_allowed";
        case 409: return "conflict";
        case 412: return "precondition_failed";
        case 413: return "payload_too_large";
        case 415: return "unsupported_media_type";
        case 422: return "validation_failed";
        case 429: return "rate_limited";
        case 500: return "internal";
        case 502: return "bad_gateway";
        case 503: return "service_unavailable";
        case 504: return "gateway_timeout";
        default:  return "error";
    }
}

int
reply_status_class (int status)
{
    return (status >= 100 && status <= 599) ? status / 100 : 0;
}
