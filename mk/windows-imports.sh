#!/bin/sh
# mk/windows-imports.sh OBJDUMP LUA_DLL HEADER... -- DLL...: check what each DLL
# of the Windows package imports (make windows-dist).
#
# A C module binds to the host's Lua at load time by the DLL's name and the
# functions' names: core.dll and cjson.dll for LuaJIT hosts must import Lua
# from LUA_DLL (lua51.dll: the name LOVE's LuaJIT DLL has, as LuaJIT's own
# msvcbuild.bat makes it) and only functions the Lua headers given declare
# as LUA_API or LUALIB_API, which every such build exports; and nothing but
# libcurl.dll and DLLs every Windows has besides. The Lua 5.4 ones likewise
# with lua54.dll and Lua 5.4's headers. A second Lua (lua54.dll
# in a LuaJIT host) or a function of a newer LuaJIT would fail on the
# player's machine, not here: this says so at build time.
set -u
objdump=$1 lua=$2
shift 2
headers=
while [ "$1" != -- ]; do headers="$headers $1"; shift; done
shift
api=$(sed -n 's/^LUA\(LIB\)\{0,1\}_API[^(]*(\{0,1\}\(lua[L_][A-Za-z_0-9]*\).*/\2/p' $headers | sort -u)
[ -n "$api" ] || { echo "windows-imports: no LUA_API declarations in$headers" >&2; exit 1; }
rc=0
for dll in "$@"; do
    dump=$($objdump -p "$dll") || exit 1
    for name in $(printf '%s\n' "$dump" | sed -n 's/^[[:space:]]*DLL Name: //p'); do
        case $(printf '%s' "$name" | tr 'A-Z' 'a-z') in
            "$lua"|libcurl.dll|kernel32.dll|msvcrt.dll|ws2_32.dll|bcrypt.dll) ;;
            *) echo "windows-imports: $dll imports $name" >&2; rc=1 ;;
        esac
    done
    # the functions imported from the Lua DLL: the rows after its "DLL Name" up to the next one
    used=$(printf '%s\n' "$dump" | awk -v dll="$lua" '
        /DLL Name:/ { on = (tolower($3) == dll); next }
        on && /^[[:space:]]+[0-9a-f]+[[:space:]]+[0-9]+[[:space:]]+[A-Za-z_]/ { print $3 }')
    [ -n "$used" ] || { echo "windows-imports: $dll imports nothing from $lua" >&2; rc=1; }
    for f in $used; do
        printf '%s\n' "$api" | grep -qx "$f" || { echo "windows-imports: $dll imports $f, not in the Lua API of$headers" >&2; rc=1; }
    done
    [ -z "$used" ] || echo "windows-imports: $dll: $(printf '%s\n' "$used" | wc -l | tr -d ' ') Lua functions from $lua, each in its API"
done
exit $rc
