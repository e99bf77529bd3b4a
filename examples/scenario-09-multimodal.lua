-- Scenario 9 of the service reference: reference images, video and audio together (多模态视频).
-- luacheck: no max line length
-- Generates the video, waits with progress, and downloads it under out/.
--
--   build/seedance-emulator --speed 50 &      # prints: listening on http://127.0.0.1:PORT
--   SEEDANCE_BASE_URL=http://127.0.0.1:PORT SEEDANCE_API_KEY=test SEEDANCE_TIME_SCALE=0.02 \
--     lua5.4 examples/scenario-09-multimodal.lua
--   (for the real service: export SEEDANCE_API_KEY=... and leave SEEDANCE_BASE_URL unset)
local seedance = require("seedance")

local client = seedance.new()   -- key and service from SEEDANCE_API_KEY and SEEDANCE_BASE_URL

local task = assert(client:generate({
  model = "doubao-seedance-2.0",
  prompt = "全程使用视频1的第一视角构图，全程使用音频1作为背景音乐。第一人称视角果茶宣传广告，seedance牌「苹苹安安」苹果果茶限定款；首帧为图片1，你的手摘下一颗带晨露的阿克苏红苹果，轻脆的苹果碰撞声；2-4秒：快速切镜，你的手将苹果块投入雪克杯，加入冰块与茶底，用力摇晃，冰块碰撞声与摇晃声卡点轻快鼓点，背景音：「鲜切现摇」；4-6秒：第一人称成品特写，分层果茶倒入透明杯，你的手轻挤奶盖在顶部铺展，在杯身贴上粉红包标，镜头拉近看奶盖与果茶的分层纹理；6-8秒：第一人称手持举杯，你将图片2中的果茶举到镜头前（模拟递到观众面前的视角），杯身标签清晰可见，背景音「来一口鲜爽」，尾帧定格为图片2。背景声音统一为女生音色。",
  image_urls = { "https://example.com/tea_pic1.jpg", "https://example.com/tea_pic2.jpg" },
  video_urls = { "https://example.com/tea_video1.mp4" },
  audio_urls = { "https://example.com/tea_audio1.mp3" },
  generate_audio = true,
  size = "16:9",
  duration = 11,
}))
print("submitted " .. task.id)

assert(task:wait{
  on_progress = function(t) print(string.format("%-10s %3d%%", t.status, t.progress or 0)) end,
})

local dir = os.getenv("SEEDANCE_OUT_DIR") or "out"
os.execute("mkdir -p '" .. dir .. "'")
local path = assert(task:download(dir .. "/scenario-09.mp4"))
print("saved " .. path)
