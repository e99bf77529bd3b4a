#!/bin/sh
# mk/rock-install.sh LUA_VERSION TREE ROCK ROCKSPEC: install a source rock into
# a LuaRocks tree on the first try (make rock-install).
#
# The rock declares its dependencies (lua-cjson, argparse), so that from a
# rocks server LuaRocks installs them as its users expect. Debian's lua-cjson
# and lua-argparse packages install the modules but register them in no
# LuaRocks manifest: a plain `luarocks install` does not know they are there,
# asks a rocks server for them and, offline, installs nothing. So first ask
# the interpreter (mk/rock-deps.lua): a dependency it loads already and
# LuaRocks does not know is declared provided by the system, as LuaRocks
# documents (`luarocks config rocks_provided.NAME VERSION`, in the user's
# LuaRocks configuration, whose folder is made when missing), so this install
# and every later one count it; one it does not load is left to LuaRocks to
# fetch from its rocks servers. Then `luarocks install` as usual. Where the
# configuration cannot be written and every dependency loads, the install
# checks none (--deps-mode=none), and says so.
#
# ROCK_LUA names the interpreter asked (default luaLUA_VERSION).
set -u
v=$1 tree=$2 rock=$3 spec=$4
lua=${ROCK_LUA:-lua$v}
luarocks="luarocks --lua-version=$v"
deps=$($lua mk/rock-deps.lua "$spec") || {
    echo "make rock-install: $lua cannot run (ROCK_LUA names another interpreter)" >&2; exit 1; }
fetch= undeclared= mode=
conf=$($luarocks config config_files.user.file 2>/dev/null)
while read -r name state version; do
    [ -n "$name" ] || continue
    if [ "$state" != loads ]; then fetch="$fetch $name"; continue; fi
    # LuaRocks knows it already: installed as a rock, or declared provided before
    if $luarocks --tree "$tree" show "$name" >/dev/null 2>&1 || $luarocks config "rocks_provided.$name" >/dev/null 2>&1; then
        continue
    fi
    if [ -n "$conf" ] && mkdir -p "$(dirname "$conf")" 2>/dev/null && \
       $luarocks config "rocks_provided.$name" "$version" >/dev/null 2>&1; then
        echo "make rock-install: $name loads in $lua (a system package): declared provided ($version) in $conf"
    else
        undeclared="$undeclared $name"
    fi
done <<DEPS
$deps
DEPS
if [ -n "$undeclared" ]; then
    if [ -n "$fetch" ]; then
        echo "make rock-install:$undeclared load in $lua but could not be declared provided in ${conf:-the LuaRocks configuration}," \
             "and$fetch must come from a rocks server: declare the first with luarocks config rocks_provided.NAME VERSION" >&2
        exit 1
    fi
    mode=--deps-mode=none
    echo "make rock-install:$undeclared load in $lua but could not be declared provided in ${conf:-the LuaRocks configuration}: installing with $mode"
fi
[ -z "$fetch" ] || echo "make rock-install:$fetch not loadable in $lua: LuaRocks installs them from its rocks servers"
exec $luarocks --tree "$tree" install $mode "$rock"
