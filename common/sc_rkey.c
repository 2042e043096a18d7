#include "sc_rkey.h"

#include <stdarg.h>
#include <stdio.h>

int sc_rkey_brand(sc_buf_t *out, const char *brand, const char *fmt, ...)
{
        size_t start = out->len;
        int rc = sc_buf_printf(out, "sc:{%s}:", brand);
        if (!rc) {
                va_list ap;
                va_start(ap, fmt);
                rc = sc_buf_vprintf(out, fmt, ap);
                va_end(ap);
        }
        if (rc) {
                out->len = start;
                if (out->data)
                        out->data[start] = '\0';
        }
        return rc;
}

int sc_rkey_brand_s(char *out, size_t n, const char *brand, const char *fmt, ...)
{
        int len = snprintf(out, n, "sc:{%s}:", brand);
        if (len < 0)
                return len;
        va_list ap;
        va_start(ap, fmt);
        int more = vsnprintf((size_t)len < n ? out + len : NULL,
                             (size_t)len < n ? n - (size_t)len : 0, fmt, ap);
        va_end(ap);
        return more < 0 ? more : len + more;
}

/* The builders ingest and track call per post append their parts rather
 * than run printf. */
static int undo(sc_buf_t *out, size_t start)
{
        out->len = start;
        if (out->data)
                out->data[start] = '\0';
        return -1;
}

int sc_rkey_prefix(sc_buf_t *out, const char *brand)
{
        size_t start = out->len;
        if (sc_buf_append(out, "sc:{", 4) || sc_buf_puts(out, brand) ||
            sc_buf_append(out, "}:", 2))
                return undo(out, start);
        return 0;
}

int sc_rkey_conv(sc_buf_t *out, const char *platform, const char *thread,
                 const char *post_id)
{
        size_t start = out->len;
        if (sc_buf_append(out, "sc:conv:{", 9) || sc_buf_puts(out, platform) ||
            sc_buf_putc(out, ':') || sc_buf_puts(out, thread) ||
            sc_buf_append(out, "}:", 2) || sc_buf_puts(out, post_id))
                return undo(out, start);
        return 0;
}
