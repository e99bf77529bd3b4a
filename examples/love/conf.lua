-- LOVE configuration for the seedance example game.
function love.conf(t)
  t.identity = "seedance-example"
  t.window.title = "seedance in LOVE"
  t.window.width = 640
  t.window.height = 360
  t.window.vsync = 0           -- main.lua paces frames itself (60 Hz) and measures them
  t.modules.audio = false
  t.modules.sound = false
  t.modules.joystick = false
  t.modules.physics = false
end
