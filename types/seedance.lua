---@meta seedance
-- LuaLS type definitions for seedance: request tables, options, the client,
-- tasks and errors, so editors complete request keys and check values.
-- Point your editor at this folder (Lua.workspace.library) to use them.

---@class seedance.Request
---@field model "doubao-seedance-2.0"|"doubao-seedance-2.0-fast"|"doubao-seedance-2.0-face"|"doubao-seedance-2.0-fast-face" required: doubao-seedance-2.0, -fast, -face or -fast-face
---@field prompt string|nil required for text-to-video; at most 4000 characters
---@field duration integer|nil seconds, 4 to 15 (default 5)
---@field size "16:9"|"9:16"|"1:1"|"4:3"|"3:4"|"21:9"|"adaptive"|nil aspect ratio (default 16:9)
---@field resolution "480p"|"720p"|"1080p"|nil 1080p only on doubao-seedance-2.0 and -face (default 480p)
---@field seed integer|nil -1 .. 4294967295
---@field generate_audio boolean|nil add generated sound (default false)
---@field return_last_frame boolean|nil also return the last frame as an image URL, for chaining clips (default false)
---@field tools {type:"web_search"}[]|nil web_search is the only tool
---@field image_urls (string|seedance.File)[]|nil 1 to 9 http(s):// or asset:// URLs, or seedance.file(path)
---@field image_with_roles {url:string|seedance.File, role:"first_frame"|"last_frame"|"reference_image"}[]|nil images with roles; not with image_urls; at most one first_frame and one last_frame
---@field video_urls string[]|nil at most 3
---@field audio_urls string[]|nil at most 3; needs a reference image or video

---@class seedance.File
---@field path string the path as given
---@field resolved string the file it names, resolved against the working directory when seedance.file was called

---@class seedance.ClientOptions
---@field api_key string|nil the API key, never printed (default $SEEDANCE_API_KEY)
---@field base_url string|nil https, or http to loopback (default $SEEDANCE_BASE_URL or https://xcompute.us)
---@field timeout number|nil seconds per API request (default 60)
---@field connect_timeout number|nil seconds to connect (default 10)
---@field max_retries integer|nil retries of 429, 5xx and transport errors (default 4)
---@field backoff number|nil first retry delay in seconds (default 0.5), doubled each time
---@field max_backoff number|nil cap of one retry delay (default 30)
---@field max_retry_after number|nil longest Retry-After honoured before giving up (default 120)
---@field validate boolean|nil check requests before sending them (default true)
---@field language "en"|"zh"|"ko"|"ja"|nil language of the service's messages
---@field proxy string|nil proxy URL for libcurl
---@field ca_file string|nil CA bundle for TLS verification
---@field allow_insecure_http boolean|nil allow an http:// base_url to hosts other than loopback
---@field allow_insecure_media boolean|nil allow http:// result URLs to hosts other than loopback (a gateway of your own)
---@field max_body integer|nil cap of an API answer in bytes (default 4 MiB)
---@field max_download integer|nil cap of a downloaded file in bytes (default 1 GiB)
---@field download_timeout number|nil overall seconds of one download call (default 3600)
---@field min_download_rate integer|nil bytes per second below which, for 30 s, a download attempt counts as stalled (default 1024)
---@field poll_min number|nil shortest pause between task polls (default 1 s)
---@field poll_max number|nil longest pause between task polls (default 30 s)
---@field wait_timeout number|nil default deadline of task:wait (default 1800 s)
---@field time_scale number|nil multiply every pause by this (for a time-scaled emulator; default $SEEDANCE_TIME_SCALE, for a loopback base_url only, or 1)
---@field on_retry fun(err:seedance.Error, attempt:integer, delay:number)|nil called before each retry
---@field logger fun(level:"info"|"debug", line:string)|nil receives each log line, the key masked (default: standard error when log_level is set)
---@field log_level "info"|"debug"|nil info: one line per HTTP exchange and per retry; debug: more (default $SEEDANCE_LOG)
---@field user_agent string|nil the User-Agent header (default seedance-lua/VERSION)
---@field journal string|nil path of a crash-safe journal: a re-run re-attaches to tasks instead of paying twice
---@field max_in_flight integer|nil at most this many tasks submitted and not finished (default unlimited)
---@field max_requests integer|nil cap of the concurrent API request window (default 64)
---@field governor boolean|nil false turns off the shared back-off on 429 (default true)

---@class seedance.Client

---@class seedance.GenerateOptions
---@field validate boolean|nil false skips client-side checks for this request
---@field idempotency_key string|nil the key to submit under: an earlier error's `idempotency_key` picks up the task that submit may have made (a retried submit never makes a second task); with a journal, not when another call of the same request holds that key's task (two items never share one)
---@field key string|nil with a journal: the logical request's name (default: its hash and occurrence)
---@field before_submit fun(key:string):boolean|nil|nil called right before the submit is first sent, with its Idempotency-Key; false sends nothing (an `aborted` error)

---@class seedance.Task
---@field id string the task id, "task_..."
---@field status "submitted"|"pending"|"processing"|"completed"|"failed"|"cancelled"|string|nil nil until first refreshed
---@field progress integer|nil 0..100
---@field result table|nil the service's result object, once completed
---@field error table|nil the service's error object `{ code, message, type }`, once failed
---@field video_url string|nil the first video's URL, once completed
---@field last_frame_url string|nil the last frame's URL, with return_last_frame
---@field expires_at number|nil unix time (seconds) when the result URLs stop working
---@field created number|nil unix time (seconds) when the service made the task
---@field completed number|nil unix time (seconds) when the task completed
---@field actual_time number|nil seconds the task took, once completed
---@field reattached boolean|nil true when a journal re-attached this handle to a task paid for before
---@field idempotency_key string|nil the Idempotency-Key of its submit
---@field client seedance.Client the client that made it
---@field estimated_time number|nil seconds the service expects the whole task to take

---@class seedance.WaitOptions
---@field timeout number|nil overall deadline in seconds (default: the client's wait_timeout)
---@field on_progress fun(task:seedance.Task)|nil called when status or progress changes

---@class seedance.DownloadOptions
---@field on_progress fun(done:integer, total:integer|nil)|nil called about 10 times a second, and at the end
---@field source "video"|"last_frame"|nil what to download (default "video")
---@field wait seedance.WaitOptions|nil options for waiting when the task has not completed yet
---@field timeout number|nil seconds for the whole download, retries included (default: the client's download_timeout)

---@class seedance.MapOptions
---@field concurrency integer|nil items worked on at once (default 4)
---@field fail_fast boolean|nil stop starting new items after the first error (default false)
---@field output string|fun(i:integer, request:table):string|nil where item i is downloaded ("out/%03d.mp4")
---@field timeout number|nil wait deadline per item
---@field on_progress fun(stats:table)|nil batch progress: total, done, failed, running, percent
---@field generate {validate:boolean|nil, timeout:number|nil}|nil options for each submit (no key: it would be every item's)
---@field on_download fun(done:integer, total:integer|nil)|nil download progress of each item

---@class seedance.ChainOptions
---@field output string|fun(i:integer, request:table):string|nil where clip i is downloaded
---@field frame_as "image_urls"|"first_frame"|nil how the previous last frame enters the next request (default image_urls, as in the reference's scenario 7)
---@field timeout number|nil wait deadline per clip
---@field on_clip fun(i:integer, task:seedance.Task, path:string|nil)|nil called after each clip
---@field on_progress fun(i:integer, task:seedance.Task)|nil task progress of the current clip
---@field generate {validate:boolean|nil, timeout:number|nil}|nil options for each submit (no key: it would be every clip's)
---@field on_download fun(done:integer, total:integer|nil)|nil download progress of each clip

---@class seedance.Error
---@field type "validation_error"|"invalid_request_error"|"authentication_error"|"payment_required"|"permission_error"|"rate_limit_error"|"server_error"|"bad_gateway"|"service_unavailable"|"gateway_timeout"|"network_error"|"tls_error"|"timeout_error"|"task_failed"|"expired"|"unsafe_url"|"too_large"|"callback_error"|"io_error"|"aborted"|"skipped"|string
---@field message string what went wrong, in one line
---@field status integer|nil HTTP status, when there was an answer
---@field retryable boolean whether trying again later may succeed
---@field errors {field:string, message:string}[]|nil every problem, for validation errors
---@field code integer|nil the service's own error code, when it sent one
---@field task_id string|nil the task concerned, if any
---@field idempotency_key string|nil the Idempotency-Key of the submit the error ended: pass it back (`generate(req, { idempotency_key = ... })`) to pick up a task it may have made, never paying twice
---@field maybe_paid boolean|nil true when an answer to the submit was lost (or was a 5xx): the service may have made and billed the task under idempotency_key

---@class seedance.Spawned
---@field done boolean whether the coroutine has finished
---@field ok boolean|nil true when it returned, false when it raised
---@field error any what it raised, with a traceback, when ok is false
---@field wait fun(self:seedance.Spawned):any ... the coroutine's results, or nil and its error (yields in a coroutine, blocks otherwise)

---@class seedance.Client
---@field base_url string
---@field settings table the resolved options (never the key)
---@field journal_path string|nil the journal's file, resolved (absolute) when the client was made
---@field closed boolean|nil true once `close` was called
---@field generate fun(self:seedance.Client, request:seedance.Request, opts:seedance.GenerateOptions|nil):seedance.Task|nil, seedance.Error|nil
---@field task fun(self:seedance.Client, id:string):seedance.Task
---@field upload_image fun(self:seedance.Client, path:string):string|nil, seedance.Error|table|nil
---@field balance fun(self:seedance.Client):table|nil, seedance.Error|nil
---@field close fun(self:seedance.Client)

---@class seedance.Task
---@field refresh fun(self:seedance.Task, opts:{timeout:number|nil}|nil):seedance.Task|nil, seedance.Error|nil
---@field wait fun(self:seedance.Task, opts:seedance.WaitOptions|nil):seedance.Task|nil, seedance.Error|nil
---@field download fun(self:seedance.Task, path:string, opts:seedance.DownloadOptions|nil):string|nil, seedance.Error|nil
---@field progress_at fun(self:seedance.Task, now:number|nil):number, number|nil percent for a bar drawn every frame (0..100, not always whole: never backwards, at most 99 until completed, 100 once completed) and wall seconds left (nil once ended or unknown); `now` on the library's monotonic clock (default: now)
---@field close fun(self:seedance.Task)
---@field server_time fun(self:seedance.Task):number unix seconds on the service's clock now (its last answer's Date), what created and expires_at are compared with

---@class seedance.errors
---@field new fun(fields:table):seedance.Error make an error object (`type` and `message` required)
---@field is fun(v:any):boolean whether v is a seedance error object
---@field Error table the metatable of error objects

---@class seedance
---@field _VERSION string "MAJOR.MINOR.PATCH"
---@field errors seedance.errors
---@field validate fun(request:seedance.Request):boolean|nil, seedance.Error|nil
---@field new fun(opts:seedance.ClientOptions|nil):seedance.Client
---@field file fun(path:string):seedance.File
---@field run fun(fn:function, ...):any
---@field spawn fun(fn:function, ...):seedance.Spawned
---@field step fun(timeout:number|nil):integer
---@field sleep fun(seconds:number)
---@field now fun():number seconds on a monotonic clock (only differences mean anything)
---@field sockets fun():table
---@field timeout fun():number|nil
---@field map fun(client:seedance.Client, requests:seedance.Request[], opts:seedance.MapOptions|nil):table, table
---@field chain fun(client:seedance.Client, requests:seedance.Request[], opts:seedance.ChainOptions|nil):table, seedance.Error|nil

