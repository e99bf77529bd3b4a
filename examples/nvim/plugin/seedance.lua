-- Loaded by Neovim from the runtimepath. The commands load the plugin (and
-- seedance) on first use, so startup costs nothing.
vim.api.nvim_create_user_command("SeedanceGenerate", function(c) require("seedance_nvim").generate(c.args) end,
  { nargs = "+", desc = "generate a video with seedance" })
vim.api.nvim_create_user_command("SeedanceJobs", function() require("seedance_nvim").list() end,
  { desc = "list seedance jobs" })
