/*  warnrate: warn lines per second, the rest counted. See warnrate.h.  */
#include "warnrate.h"
#include "log.h"

#include <inttypes.h>

void
warnrate_flush (warnrate_t *self, int64_t now, uint64_t total)
{
    if (now - self->window < 1000)
        return;
    if (self->suppressed)
        log_warn ("event=%s_suppressed count=%" PRIu64 " total=%" PRIu64,
                  self->event ? self->event : "warn", self->suppressed, total);
    self->window = now;
    self->lines = 0;
    self->suppressed = 0;
}

bool
warnrate_allowed (warnrate_t *self, int64_t now, uint64_t total)
{
    warnrate_flush (self, now, total);
    if (self->lines < WARNRATE_LINES_PER_S) {
        self->lines++;
        return true;
    }
    self->suppressed++;
    return false;
}
