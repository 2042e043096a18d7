/* Redis key names (sc_rkey): the layouts the Lua scripts and socialcarectl
 * read, and one slot per brand / conversation. */
#include "sc_redis.h"
#include "sc_rkey.h"
#include "../sc_test.h"

int main(void)
{
        sc_buf_t b = SC_BUF_INIT;
        CHECK(sc_rkey_brand(&b, "telko", "d:u:%s", "2026-11-20") == 0);
        CHECK_STR(b.data, "sc:{telko}:d:u:2026-11-20");
        int slot = sc_redis_key_slot(b.data, b.len);
        sc_buf_reset(&b);
        CHECK(sc_rkey_prefix(&b, "telko") == 0);
        CHECK_STR(b.data, "sc:{telko}:");
        CHECK_INT(sc_redis_key_slot(b.data, b.len), slot);
        /* appends */
        CHECK(sc_rkey_brand(&b, "telko", "outbox") == 0);
        CHECK_STR(b.data, "sc:{telko}:sc:{telko}:outbox");
        sc_buf_reset(&b);
        CHECK(sc_rkey_conv(&b, "x", "1800", "1861") == 0);
        CHECK_STR(b.data, "sc:conv:{x:1800}:1861");
        size_t len = b.len;
        CHECK(sc_rkey_conv(&b, "x", "1800", "1800") == 0);
        CHECK_INT(sc_redis_key_slot(b.data, len),
                  sc_redis_key_slot(b.data + len, b.len - len));

        char k[32];
        CHECK_INT(sc_rkey_brand_s(k, sizeof(k), "futuro", "pending"), 19);
        CHECK_STR(k, "sc:{futuro}:pending");
        /* cut like snprintf, with the length it would have */
        char small[12];
        CHECK_INT(
            sc_rkey_brand_s(small, sizeof(small), "futuro", "alert:%s:%d", "neg", 7), 23);
        CHECK_STR(small, "sc:{futuro}");
        CHECK_INT(sc_rkey_brand_s(small, 4, "futuro", "x"), 13);
        CHECK_STR(small, "sc:");
        CHECK_STR(SC_RKEY_BRANDS, "sc:brands");
        sc_buf_free(&b);
        TEST_DONE();
}
