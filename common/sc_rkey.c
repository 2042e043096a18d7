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

int sc_rkey_prefix(sc_buf_t *out, const char *brand)
{
        return sc_buf_printf(out, "sc:{%s}:", brand);
}

int sc_rkey_conv(sc_buf_t *out, const char *platform, const char *thread,
                 const char *post_id)
{
        return sc_buf_printf(out, "sc:conv:{%s:%s}:%s", platform, thread, post_id);
}
