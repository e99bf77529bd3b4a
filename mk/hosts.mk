# mk/hosts.mk: the real hosts of examples/ (included by the Makefile).
#
#   make c-host     build/c-host, the C program of examples/c-host/ that embeds
#                   Lua 5.4 and calls seedance.step(0) from its frame loop
#   make hosts      build what the host examples need: the C host, the LuaJIT
#                   core for LOVE and Neovim (build/luajit/seedance/core.so),
#                   the emulator
#
# spec/hosts/hosts_spec.lua runs each host against the emulator (under make test).

C_HOST = build/c-host

.PHONY: c-host hosts

c-host: $(C_HOST)

$(C_HOST): examples/c-host/host.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) -std=c99 $(LUA_INC) -o $@ examples/c-host/host.c $$(pkg-config --libs $(LUA_PC)) -lm

hosts: $(C_HOST) build/luajit/seedance/core.so build emulator
