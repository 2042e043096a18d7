/* The tracker's Lua scripts (sc_track_lua.c). */
#ifndef SC_TRACK_LUA_H
#define SC_TRACK_LUA_H

extern const char sc_track_lua_batch[];
extern const char sc_track_lua_bfrt[];
extern const char sc_track_lua_scan[];
extern const char sc_track_lua_outbox[];
extern const char sc_track_lua_commit[];

#endif
