std = "max"
max_line_length = 120
max_comment_line_length = false
files["spec"] = { std = "+busted", max_line_length = false }
files["mutants"] = { max_line_length = false, ignore = { "61" } } -- rows hold the code lines they replace
exclude_files = { "build", "out" }
files["examples/love"] = { globals = { "love" } }
files["examples/nvim"] = { read_globals = { "vim" } }
