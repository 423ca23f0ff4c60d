// watch(fd, events, callback): readiness callbacks on the event loop of the calling environment, through a
// uv_poll_t on that environment's own libuv loop (so it works in worker_threads).
//
// Lifetime rules (the part that crashes other addons):
// - libuv allows one poll handle per fd and loop; uv_poll_init refuses a second with EEXIST, and we keep our
//   own per-environment table too, for a clear error.
// - A started watcher keeps its JavaScript object alive (a strong reference), so it cannot be collected while
//   the kernel may still report events; a stopped one can be collected, and its handle is closed then.
// - When the environment goes away (a worker exits, the process ends), an async cleanup hook closes every
//   handle still open and waits for libuv's close callbacks before it lets the environment finish, so the
//   loop closes with nothing left on it.
//
// Batched watchers (the async Socket methods' Readiness, not watch()): their poll callbacks run no JavaScript.
// They queue the event, and a check handle, which libuv runs right after the poll phase of the same loop
// iteration, hands the whole queue to one JavaScript function in one call: one crossing into JavaScript (and
// one microtask checkpoint) per loop iteration instead of one per ready fd, as the selector models do it with
// one epoll_wait. The queue holds handles, not objects: a handle lives until its close callback, which libuv
// runs after the check phase, and closing a queued handle takes it out of the queue. Each entry goes to
// JavaScript as the watcher's id (the JavaScript side's index of its callback) and its value, both read from
// the handle alone: on a server with thousands of connections every object a delivery reads is a cache miss,
// and the watcher object, its callback's reference and V8's handle for it were three of them.
//
// Reads at readiness (the async methods' recvIntoAsync into a whole buffer): as libuv reads a stream as soon as
// its poll reports it readable and hands the bytes up, the delivery makes the recv of an armed watcher itself,
// right before the call into JavaScript that delivers its entry, instead of JavaScript calling back into the
// addon for it: one recv per ready fd, in the libuv callback that found it ready, as libuv's own reads are made.
// What to read into is the buffer the watcher was last given (setReadTarget, held weakly: the waiting call holds
// it), and whether to read at all the watcher's slot in an Int32Array the JavaScript side shares with the addon
// (setWatchArm): JavaScript arms it when a call waits with that buffer and disarms it when the call goes, at no
// cost of a call into the addon; the addon writes back the outcome. See ReadArmed.
#include <fcntl.h>
#include <sys/socket.h>
#include <uv.h>
#ifdef __linux__
#include <sys/epoll.h>
#endif

#include <algorithm>
#include <cstddef>
#include <type_traits>
#include <cstring>
#include <memory>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common.h"

namespace sockfd {
namespace {

class Watcher;

struct Registry;

// Laid out for the poll callback, which runs per ready fd: on a server with thousands of connections each line
// it reads is a cache miss. libuv reads the end of the uv_poll_t (poll_cb and its io watcher), so the fields
// of each event come right after it, on the same line where the alignment allows; and the callback finds the
// Handle from the uv_poll_t's address (its first member), not from `poll.data`, the first line of the handle.
struct alignas(64) Handle {
  uv_poll_t poll;  // first: see HandleOf
  Watcher* owner = nullptr;  // null once the JavaScript object let go of it
  int32_t id = -1;           // a batched watcher's id
  bool batched = false;
  bool started = false;   // the owner's started_ (for Deliver, which reads no owner)
  bool queued = false;    // in registry->queued, with what to deliver:
  int queued_status = 0;  // a libuv error (negative), or 0
  int queued_events = 0;
  Registry* registry = nullptr;
  int fd = -1;
  napi_ref read_target = nullptr;  // weak: the buffer an armed read goes into (setReadTarget), or null
};
static_assert(std::is_standard_layout<Handle>::value && offsetof(Handle, poll) == 0,
              "a Handle's address is its uv_poll_t's");

Handle* HandleOf(uv_poll_t* poll) { return reinterpret_cast<Handle*>(poll); }

// One per environment: the open handles, and the cleanup hook waiting for them at teardown.
struct Registry {
  napi_env env;
  napi_async_cleanup_hook_handle hook = nullptr;
  std::unordered_map<int, Handle*> open;  // by fd: handles not yet closing
  // The ids of the batched handles among them: one handle per id, since an id is also an arm slot (ReadArmed),
  // and a second handle with the same id could put its own read into the slot of another's waiting call.
  std::unordered_set<int32_t> batched_ids;
  int closing = 0;                        // uv_close called, callback not yet run
  bool tearing_down = false;
  // The batched watchers' delivery (see the top of this file), set up by setWatchBatch().
  uv_check_t* check = nullptr;
  std::vector<Handle*> queued;
  std::vector<Handle*> delivering;  // the queue being delivered (Deliver)
  bool in_delivery = false;
  napi_ref batch_fn = nullptr;     // function(n): entries 0 .. n-1 are in batch_out
  napi_ref batch_out = nullptr;    // Int32Array: entry i's value (events, or a negative libuv error) at i, its id at kBatch + i
  napi_ref batch_state = nullptr;  // the JavaScript side's table of callbacks by id (getWatchBatch gives it out)
  napi_ref arm = nullptr;          // Int32Array: the armed reads' slots by id (setWatchArm), or null
  std::unique_ptr<Napi::AsyncContext> batch_context;

  void MaybeFinish() {
    if (tearing_down && open.empty() && closing == 0) {
      napi_async_cleanup_hook_handle h = hook;
      delete this;
      napi_remove_async_cleanup_hook(h);
    }
  }
};

void Unqueue(Handle* handle) {
  if (!handle->queued) return;
  handle->queued = false;
  auto& q = handle->registry->queued;
  auto it = std::find(q.begin(), q.end(), handle);
  if (it != q.end()) q.erase(it);
}

void OnClose(uv_handle_t* h) {
  Handle* handle = reinterpret_cast<Handle*>(h);
  Registry* reg = handle->registry;
  delete handle;
  reg->closing--;
  reg->MaybeFinish();
}

// Starts closing a handle: it leaves the table at once, so its fd can be watched again right away.
void CloseHandle(Handle* handle) {
  Registry* reg = handle->registry;
  if (handle->read_target != nullptr) {
    napi_delete_reference(reg->env, handle->read_target);
    handle->read_target = nullptr;
  }
  auto it = reg->open.find(handle->fd);
  if (it != reg->open.end() && it->second == handle) {
    reg->open.erase(it);
    if (handle->batched) reg->batched_ids.erase(handle->id);
  }
  handle->owner = nullptr;
  Unqueue(handle);
  reg->closing++;
  uv_close(reinterpret_cast<uv_handle_t*>(&handle->poll), OnClose);
}

void OnTeardown(napi_async_cleanup_hook_handle hook, void* arg);

// Reports an exception that a callback into JavaScript left: nobody up the stack can catch it, so it is the
// process's uncaught exception, as for any Node callback. Returns false if JavaScript could not run at all.
bool AfterCall(napi_env env, napi_status st) {
  if (st == napi_ok) return true;
  bool pending = false;
  napi_value exception;
  if (napi_is_exception_pending(env, &pending) == napi_ok && pending &&
      napi_get_and_clear_last_exception(env, &exception) == napi_ok) {
    napi_fatal_exception(env, exception);
    return true;
  }
  return false;  // the environment began to stop
}

// The most entries one call into JavaScript delivers (watch.ts's BATCH; its Int32Array holds twice that: the
// values, then the ids). Also the size at which the poll phase delivers the queue itself (see Queue).
constexpr uint32_t kBatch = 256;
void Deliver(Registry* reg);

// An armed read's slot in the arm array (setWatchArm): the Int32Array's elements 2 * id (the state) and
// 2 * id + 1 (the outcome). JavaScript sets kArmed and kIdle; the addon, having tried the read, kRead (the
// outcome: the byte count, 0 at end of stream, -errno for a failed recv, or kWindowGone when the buffer had no
// bytes left: detached, or resized to nothing) or kWouldBlock (readiness was a hint: nothing to read after all).
constexpr int32_t kIdle = 0;
constexpr int32_t kArmed = 1;
constexpr int32_t kRead = 2;
constexpr int32_t kWouldBlock = 3;
constexpr int32_t kWindowGone = INT32_MIN;

// The slots are read and written as atomics (relaxed: nothing else is ordered by them): the package's array is
// its thread's alone, but one handed to setWatchArm may be a view of a SharedArrayBuffer that another thread
// writes meanwhile.
int32_t LoadSlot(const int32_t* p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }
void StoreSlot(int32_t* p, int32_t v) { __atomic_store_n(p, v, __ATOMIC_RELAXED); }

// The read of a readable watcher whose slot is armed, in the delivery, before the call into JavaScript that
// delivers its entry (no JavaScript runs between the two). One recv, into the target as it is now: its pointer
// and length read once (a growable SharedArrayBuffer that another thread grows only gets longer, and a
// resizable ArrayBuffer is resized by this thread alone). The slot is left armed, and JavaScript reads as
// usual, when there is no target to read into (collected, or the environment is stopping).
void ReadArmed(napi_env env, Handle* h, int32_t* slot) {
  if (h->read_target == nullptr) return;
  napi_value target = nullptr;
  Bytes b;
  if (napi_get_reference_value(env, h->read_target, &target) != napi_ok || target == nullptr ||
      !TryBytesOf(env, target, &b)) {
    return;
  }
  int32_t outcome;
  if (b.length == 0) {
    outcome = kWindowGone;
  } else {
    // At most INT32_MAX bytes, so that the count fits the slot (a shorter read than the buffer is a read).
    ssize_t n;
    do {
      n = ::recv(h->fd, b.data, std::min<size_t>(b.length, INT32_MAX), 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
      int err = errno;
      if (err == EAGAIN || err == EWOULDBLOCK) {
        StoreSlot(&slot[0], kWouldBlock);
        return;
      }
      outcome = -err;
    } else {
      outcome = static_cast<int32_t>(n);
    }
  }
  StoreSlot(&slot[1], outcome);
  StoreSlot(&slot[0], kRead);
}

// uv_poll_start that cannot abort the process. libuv adds the fd to its epoll set only at the next loop
// iteration, and calls abort() if that epoll_ctl fails with anything but EEXIST. uv_poll_init checked the fd
// once, but what was fine then may not be now: an epoll fd nested deeper since (ELOOP), say. So add it here,
// at once, where a failure is an error for the caller; libuv's own add then meets EEXIST and modifies the entry.
int PollStart(uv_poll_t* poll, int fd, int events, uv_poll_cb cb) {
  int rc = uv_poll_start(poll, events, cb);
  if (rc < 0 || events == 0) return rc;
#ifdef __linux__
  epoll_event e{};
  e.data.fd = fd;
  if (::epoll_ctl(uv_backend_fd(poll->loop), EPOLL_CTL_ADD, fd, &e) < 0 && errno != EEXIST) {
    int err = errno;
    uv_poll_stop(poll);
    return -err;
  }
#endif
  return rc;
}

class Watcher : public Napi::ObjectWrap<Watcher> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Watcher",
                       {InstanceMethod<&Watcher::Update>("update"), InstanceMethod<&Watcher::Stop>("stop"),
                        InstanceMethod<&Watcher::RefHandle>("ref"), InstanceMethod<&Watcher::UnrefHandle>("unref"),
                        InstanceMethod<&Watcher::HasRef>("hasRef"),
                        InstanceMethod<&Watcher::SetReadTarget>("setReadTarget"),
                        InstanceMethod<&Watcher::IsActive>("isActive")});
  }

  // new Watcher(registry-bound fd, events, callback(err, events))
  //
  // Order matters. node-addon-api frees an object whose constructor throws without running its destructor, so
  // nothing that needs undoing may exist while a step can still throw or run JavaScript. First the steps that
  // can: the arguments, the callback property (Node-API refuses it in a worker being terminated) and the async
  // context (napi_async_init runs async_hooks init callbacks, any JavaScript: it may close the fd, watch it,
  // or call this object's stop()). Then, reading the registry only after that JavaScript has run, the handle:
  // from its registration on no JavaScript runs (errors are built with DefineOwn, which calls no setter), and a
  // failure undoes the registration before it throws.
  explicit Watcher(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Watcher>(info) {
    Napi::Env env = info.Env();
    int fd = FdArg(info, 0);
    int events = static_cast<int>(IntArg(info, 1, "events", 0, UV_READABLE | UV_WRITABLE | UV_DISCONNECT | UV_PRIORITIZED));
    if (!info[2].IsFunction()) ThrowTypeError(env, "The \"callback\" argument must be of type function");
    bool batched = info.Length() > 3 && info[3].IsBoolean() && info[3].As<Napi::Boolean>().Value();
    int32_t id = batched ? static_cast<int32_t>(IntArg(info, 4, "id", 0, INT32_MAX)) : -1;
    // The callback (which usually closes over the JavaScript Watcher that holds this object) is kept as a
    // property of this object, not in a persistent reference: a reference would be a GC root, and a paused
    // watcher (update(0)) that its owner drops would then live, with its handle and its claim on the fd, until
    // the environment ends. As a property it is part of a plain JavaScript cycle, collected with the rest; while
    // started, Ref() keeps all of it alive.
    info.This().As<Napi::Object>().DefineProperty(
        Napi::PropertyDescriptor::Value(kCallbackKey, info[2], napi_default));
    // And a weak reference to it, for Fire(): no property lookup by name per event. The property (read-only,
    // non-configurable) keeps the function alive as long as this object lives.
    callback_ = Napi::Weak(info[2].As<Napi::Function>());
    context_ = std::make_unique<Napi::AsyncContext>(env, "sockfd.watch", info.This().As<Napi::Object>());
    if (stopped_) return;  // stop() was called from an init hook: a stopped watcher, with no handle
    Registry* reg = static_cast<Registry*>(env.GetInstanceData<Registry>());
    if (reg == nullptr || reg->tearing_down) ThrowErrno(env, ECANCELED, "watch");
    if (reg->open.count(fd) != 0) ThrowErrno(env, EEXIST, "watch");
    if (batched && reg->batched_ids.count(id) != 0) ThrowErrno(env, EEXIST, "watch");
    if (batched && reg->check == nullptr) ThrowTypeError(env, "A batched watcher needs setWatchBatch() first");
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) ThrowErrno(env, ENOSYS, "watch");
    std::unique_ptr<Handle> handle(new Handle{});
    handle->registry = reg;
    handle->fd = fd;
    handle->batched = batched;
    handle->id = id;
    int rc = uv_poll_init(loop, &handle->poll, fd);  // also makes the fd non-blocking, as libuv requires
    if (rc < 0) ThrowErrno(env, -rc, "watch");       // nothing to undo: libuv keeps no failed handle
    handle->owner = this;
    handle_ = handle.release();
    handle_->poll.data = handle_;
    reg->open[fd] = handle_;
    try {
      if (batched) reg->batched_ids.insert(id);
      Start(events);
    } catch (...) {
      Release();
      throw;
    }
  }

  // Whether the handle is still there: false after stop(), after close(fd) stopped it, and at teardown.
  bool Active() const { return handle_ != nullptr; }

  ~Watcher() override {
    if (handle_ != nullptr) CloseHandle(handle_);
  }

  // Called at environment teardown, before the object is finalized.
  void Detach() { handle_ = nullptr; }

  // close(fd) on a watched fd: stop first, so that libuv never polls a closed (or reused) number.
  void StopForClose() { Release(); }

  // The callback, for the batch; null if collected.
  napi_value CallbackValue() {
    Napi::Function fn = callback_.Value();
    return fn.IsEmpty() ? nullptr : static_cast<napi_value>(fn);
  }

 private:
  static constexpr const char* kCallbackKey = "callback";
  Handle* handle_ = nullptr;
  std::unique_ptr<Napi::AsyncContext> context_;
  Napi::FunctionReference callback_;  // weak: the callback property holds the function
  bool started_ = false;  // mirrored in the handle: see SetStarted
  bool stopped_ = false;  // stop() was called: final
  int events_ = 0;

  void SetStarted(bool started) {
    started_ = started;
    if (handle_ != nullptr) handle_->started = started;
  }

  // Stops polling, lets the object be collected, and closes the handle; idempotent. Runs no JavaScript.
  void Release() {
    stopped_ = true;
    if (handle_ == nullptr) return;
    if (started_) {
      uv_poll_stop(&handle_->poll);
      SetStarted(false);
      Unref();
    }
    Handle* h = handle_;
    handle_ = nullptr;
    CloseHandle(h);
  }

  void Start(int events) {
    Napi::Env env = Env();
    events_ = events;
    if (events == 0) {
      if (started_) {
        uv_poll_stop(&handle_->poll);
        SetStarted(false);
        Unref();  // a stopped watcher may be collected
      }
      return;
    }
    int rc = PollStart(&handle_->poll, handle_->fd, events, OnPoll);
    if (rc < 0) {
      events_ = 0;
      if (started_) {
        SetStarted(false);  // libuv stopped the handle
        Unref();
      }
      ThrowErrno(env, -rc, "watch");
    }
    if (!started_) {
      Ref();  // while started, the object must stay alive to receive events (first: if it throws, not started)
      SetStarted(true);
    }
  }

  Handle* Live(const char* what) {
    if (handle_ == nullptr) ThrowErrno(Env(), EBADF, what);
    return handle_;
  }

  Napi::Value Update(const Napi::CallbackInfo& info) {
    Live("watch");
    int events = static_cast<int>(IntArg(info, 0, "events", 0, UV_READABLE | UV_WRITABLE | UV_DISCONNECT | UV_PRIORITIZED));
    Start(events);
    return info.Env().Undefined();
  }

  // Stops for good and closes the handle; the fd itself is the caller's and stays open.
  Napi::Value Stop(const Napi::CallbackInfo& info) {
    Release();
    return info.Env().Undefined();
  }

  // setReadTarget(buffer): what an armed read of this watcher goes into (see the top of this file). Held weakly:
  // a read is made only while a call waits with it, which holds it; a buffer collected meanwhile is no target.
  // The buffer is checked here (any ArrayBufferView or ArrayBuffer) and looked at again at each read.
  Napi::Value SetReadTarget(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    BytesOf(env, info[0], "buffer");  // the TypeError, before anything changes
    Handle* h = Live("watch");
    napi_ref target = nullptr;
    if (napi_create_reference(env, info[0], 0, &target) != napi_ok) ThrowErrno(env, ENOMEM, "watch");
    if (h->read_target != nullptr) napi_delete_reference(env, h->read_target);
    h->read_target = target;
    return env.Undefined();
  }

  Napi::Value IsActive(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), Active()); }

  Napi::Value RefHandle(const Napi::CallbackInfo& info) {
    if (handle_ != nullptr) uv_ref(reinterpret_cast<uv_handle_t*>(&handle_->poll));
    return info.This();
  }
  Napi::Value UnrefHandle(const Napi::CallbackInfo& info) {
    if (handle_ != nullptr) uv_unref(reinterpret_cast<uv_handle_t*>(&handle_->poll));
    return info.This();
  }
  Napi::Value HasRef(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), handle_ != nullptr && uv_has_ref(reinterpret_cast<uv_handle_t*>(&handle_->poll)));
  }

  static void OnPoll(uv_poll_t* poll, int status, int events) {
    Handle* handle = HandleOf(poll);
    if (handle->owner == nullptr) return;
    if (!handle->batched) {
      handle->owner->Fire(status, events);
    } else if (status < 0) {
      handle->owner->Queue(status, events);  // Settle needs the owner
    } else {
      Enqueue(handle, status, events);  // the usual case reads the handle alone, not the owner too
    }
  }

  // libuv reports POLLERR (a refused connect, a reset) as UV_EBADF and stops the handle. The fd is fine: an
  // error is pending on it, which the next system call returns. Report it as readiness for everything watched,
  // as select and poll do, and keep watching. A real error stops the watcher (libuv stopped the handle).
  void Settle(int* status, int* events) {
    if (*status == UV_EBADF && handle_ != nullptr && ::fcntl(handle_->fd, F_GETFD) >= 0) {
      *status = PollStart(&handle_->poll, handle_->fd, events_, OnPoll);
      *events = events_;  // all of them, as libuv does for POLLHUP: a watcher of WATCH_DISCONNECT alone must not get 0
    }
    if (*status < 0 && started_) {
      SetStarted(false);  // libuv stopped the handle
      Unref();
    }
  }

  // A batched watcher's event: queued for the check phase (see the top of this file). No JavaScript here.
  void Queue(int status, int events) {
    Handle* h = handle_;
    if (h == nullptr) return;
    Settle(&status, &events);
    Enqueue(h, status, events);
  }

  static void Enqueue(Handle* h, int status, int events) {
    if (!h->queued) {
      try {
        h->registry->queued.push_back(h);
      } catch (const std::bad_alloc&) {
        return;  // level-triggered: libuv reports the fd again at its next poll
      }
      h->queued = true;
      h->queued_status = 0;
      h->queued_events = 0;
    }
    if (status < 0) {
      h->queued_status = status;
    } else {
      h->queued_events |= events;
    }
    // A full chunk is delivered now, in the poll phase. When epoll_wait fills libuv's event array (1024), libuv
    // polls again at once, before the check phase; level-triggered, every fd still unread would be reported
    // again, and the kernel would re-poll each of them up to 48 times per loop turn. Delivered in chunks as
    // they fill, the fds are read before that next epoll_wait. Nothing here may touch the handle or its owner
    // after: the JavaScript may have stopped the watcher, or let it be collected.
    Registry* reg = h->registry;
    if (reg->queued.size() >= kBatch) Deliver(reg);
  }


  void Fire(int status, int events) {
    napi_env env = Env();
    // A worker being terminated (or the process exiting) still turns its loop until it sees the stop request,
    // and its poll callbacks may run; but JavaScript may no longer run there. Node-API refuses, and
    // node-addon-api's error path for a refused call ends in a fatal error: stay out of JavaScript altogether.
    // The environment's cleanup hook closes this handle.
    if (EnvStopping(env)) return;
    Napi::HandleScope scope(env);
    // The JavaScript object first, while the strong reference of a started watcher still holds it: Unref()
    // below may make it collectable, and a GC while the arguments are built could then take it and the
    // callback with it.
    napi_value self = Value();
    if (self == nullptr) return;  // collected: nobody left to tell
    Settle(&status, &events);
    try {
      napi_value args[2];
      if (status < 0) {
        args[0] = ErrnoError(env, -status, "poll").Value();
        args[1] = Napi::Number::New(env, 0);
      } else {
        args[0] = Napi::Env(env).Null();
        args[1] = Napi::Number::New(env, events);
      }
      if (handle_ == nullptr) return;  // stopped
      Napi::Function fn = callback_.Value();
      if (fn.IsEmpty()) return;
      // napi_make_callback, not Call: runs process.nextTick and microtasks after, as Node's own callbacks do.
      // Called directly, not through node-addon-api, so that a refusal is seen here and not as a C++ exception.
      // A refusal means the environment began to stop after the check above.
      napi_value result;
      AfterCall(env, napi_make_callback(env, *context_, self, fn, 2, args, &result));
    } catch (const Napi::Error&) {
      // Building the arguments failed: the environment began to stop after the check above. No C++ exception
      // may leave a libuv callback.
    }
  }

  friend void OnTeardown(napi_async_cleanup_hook_handle, void*);
  friend napi_value sockfd::StopWatcherForClose(napi_env, int);
};

// Delivers the batched watchers' queue, in chunks of at most kBatch: at the check phase, and from the poll
// phase when a chunk is full (see Watcher::Queue). The queue is taken whole first: between chunks JavaScript
// may stop watchers (their handles, freed only in the closing phase, after the check phase, then have no owner
// and are skipped) or pause them (skipped too); it cannot queue more, since only libuv's poll callbacks do,
// and they never run inside JavaScript.
void Deliver(Registry* reg) {
  if (reg->queued.empty() || reg->tearing_down || reg->in_delivery) return;
  reg->in_delivery = true;
  std::vector<Handle*>& batch = reg->delivering;
  batch.swap(reg->queued);
  for (Handle* h : batch) h->queued = false;
  napi_env env = reg->env;
  bool ok = !EnvStopping(env);
  size_t next = 0;
  while (ok && next < batch.size()) {
    napi_handle_scope scope;
    if (napi_open_handle_scope(env, &scope) != napi_ok) break;
    napi_value fn, out;
    ok = napi_get_reference_value(env, reg->batch_fn, &fn) == napi_ok && fn != nullptr &&
         napi_get_reference_value(env, reg->batch_out, &out) == napi_ok && out != nullptr;
    // The arm array (the module's own, never detached; JavaScript replaces it with a longer one as ids grow),
    // looked at afresh for each chunk: JavaScript ran between two.
    int32_t* arm = nullptr;
    size_t arm_length = 0;
    napi_value arm_value = nullptr;
    napi_typedarray_type arm_type;
    void* arm_data = nullptr;
    if (ok && reg->arm != nullptr && napi_get_reference_value(env, reg->arm, &arm_value) == napi_ok &&
        arm_value != nullptr &&
        napi_get_typedarray_info(env, arm_value, &arm_type, &arm_length, &arm_data, nullptr, nullptr) == napi_ok &&
        arm_type == napi_int32_array && arm_data != nullptr) {
      arm = static_cast<int32_t*>(arm_data);
    }
    int32_t values[kBatch];
    int32_t ids[kBatch];
    uint32_t n = 0;
    for (; ok && next < batch.size() && n < kBatch; next++) {
      Handle* h = batch[next];
      if (h->owner == nullptr || (h->queued_status == 0 && !h->started)) continue;  // stopped, or paused, since
      ids[n] = h->id;
      values[n++] = h->queued_status < 0 ? h->queued_status : h->queued_events;
      if (arm != nullptr && h->queued_status == 0 && (h->queued_events & UV_READABLE) != 0 &&
          static_cast<size_t>(h->id) < arm_length / 2 && LoadSlot(&arm[2 * static_cast<size_t>(h->id)]) == kArmed) {
        ReadArmed(env, h, arm + 2 * static_cast<size_t>(h->id));
      }
    }
    napi_value count;
    if (ok && n > 0 && napi_create_uint32(env, n, &count) == napi_ok) {
      // The entries go in last, read from a fresh look at the array: no JavaScript or GC runs from here to the
      // call. The array is the module's own (not the caller's), and never shorter than 2 * kBatch, but is checked.
      napi_typedarray_type type;
      size_t length = 0;
      void* data = nullptr;
      napi_value result;
      ok = napi_get_typedarray_info(env, out, &type, &length, &data, nullptr, nullptr) == napi_ok &&
           type == napi_int32_array && data != nullptr && length >= 2 * kBatch;
      if (ok) {
        std::memcpy(data, values, n * sizeof(int32_t));
        std::memcpy(static_cast<int32_t*>(data) + kBatch, ids, n * sizeof(int32_t));
        ok = AfterCall(env, napi_make_callback(env, *reg->batch_context, out, fn, 1, &count, &result));
      }
    }
    napi_close_handle_scope(env, scope);
  }
  batch.clear();  // keeps its capacity for the next iteration
  reg->in_delivery = false;
}

void OnCheck(uv_check_t* check) { Deliver(static_cast<Registry*>(check->data)); }

void OnCheckClose(uv_handle_t* h) {
  Registry* reg = static_cast<Registry*>(h->data);
  delete reinterpret_cast<uv_check_t*>(h);
  reg->closing--;
  reg->MaybeFinish();
}

// setWatchBatch(fn, out: Int32Array, state: object): where batched watchers deliver (see the top of this file):
// after each poll phase, fn(n), with entry i's value (events, or a negative libuv error) in out[i] and its
// watcher's id in out[kBatch + i]. Once per environment; one call delivers at most kBatch entries, and out holds
// at least 2 * kBatch elements (checked again at each delivery: a length-tracking view may shrink; a delivery
// that finds it short stops, and level-triggered polls report the fds again). `state` is the JavaScript side's
// (its callbacks by id), kept here for other copies of that module in the same thread: getWatchBatch().
Napi::Value SetWatchBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsFunction()) ThrowTypeError(env, "The \"fn\" argument must be of type function");
  if (!info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    ThrowTypeError(env, "The \"out\" argument must be an instance of Int32Array");
  }
  if (info[1].As<Napi::TypedArray>().ElementLength() < 2 * kBatch) {
    ThrowRangeError(env, "The \"out\" argument must hold at least " + std::to_string(2 * kBatch) + " elements");
  }
  if (!info[2].IsObject()) ThrowTypeError(env, "The \"state\" argument must be of type object");
  // The async context first: its init hooks run JavaScript, which may do anything, this call included.
  auto context = std::make_unique<Napi::AsyncContext>(env, "sockfd.watch.batch");
  Registry* reg = static_cast<Registry*>(env.GetInstanceData<Registry>());
  if (reg == nullptr || reg->tearing_down) ThrowErrno(env, ECANCELED, "watch");
  if (reg->check != nullptr) ThrowErrno(env, EEXIST, "watch");
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) ThrowErrno(env, ENOSYS, "watch");
  napi_ref fn = nullptr, out = nullptr, state = nullptr;
  if (napi_create_reference(env, info[0], 1, &fn) != napi_ok || napi_create_reference(env, info[1], 1, &out) != napi_ok ||
      napi_create_reference(env, info[2], 1, &state) != napi_ok) {
    if (fn != nullptr) napi_delete_reference(env, fn);
    if (out != nullptr) napi_delete_reference(env, out);
    ThrowErrno(env, ENOMEM, "watch");
  }
  uv_check_t* check = new (std::nothrow) uv_check_t;
  if (check == nullptr) {
    napi_delete_reference(env, fn);
    napi_delete_reference(env, out);
    napi_delete_reference(env, state);
    ThrowErrno(env, ENOMEM, "watch");
  }
  uv_check_init(loop, check);
  check->data = reg;
  uv_check_start(check, OnCheck);
  uv_unref(reinterpret_cast<uv_handle_t*>(check));  // the poll handles keep the loop alive, not this
  reg->check = check;
  reg->batch_fn = fn;
  reg->batch_out = out;
  reg->batch_state = state;
  reg->batch_context = std::move(context);
  return env.Undefined();
}

// setWatchArm(arm: Int32Array): the armed reads' slots, two elements per batched watcher id (see ReadArmed); a
// later call replaces the array (the JavaScript side grows it as its ids grow). After setWatchBatch.
Napi::Value SetWatchArm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    ThrowTypeError(env, "The \"arm\" argument must be an instance of Int32Array");
  }
  Registry* reg = static_cast<Registry*>(env.GetInstanceData<Registry>());
  if (reg == nullptr || reg->tearing_down) ThrowErrno(env, ECANCELED, "watch");
  napi_ref arm = nullptr;
  if (napi_create_reference(env, info[0], 1, &arm) != napi_ok) ThrowErrno(env, ENOMEM, "watch");
  if (reg->arm != nullptr) napi_delete_reference(env, reg->arm);
  reg->arm = arm;
  return env.Undefined();
}

// getWatchBatch(): the state given to setWatchBatch in this environment, or undefined before it.
Napi::Value GetWatchBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Registry* reg = static_cast<Registry*>(env.GetInstanceData<Registry>());
  napi_value state = nullptr;
  if (reg == nullptr || reg->batch_state == nullptr || napi_get_reference_value(env, reg->batch_state, &state) != napi_ok ||
      state == nullptr) {
    return env.Undefined();
  }
  return Napi::Value(env, state);
}

}  // namespace

napi_value StopWatcherForClose(napi_env env, int fd) {
  Registry* reg = nullptr;
  if (napi_get_instance_data(env, reinterpret_cast<void**>(&reg)) != napi_ok || reg == nullptr) return nullptr;
  auto it = reg->open.find(fd);
  if (it == reg->open.end()) return nullptr;
  Handle* h = it->second;
  // A batched watcher's callback, taken while the object still holds it: the stop lets the object go.
  napi_value told = h->batched && h->owner != nullptr && !EnvStopping(env) ? h->owner->CallbackValue() : nullptr;
  if (h->owner != nullptr) {
    h->owner->StopForClose();
  } else {
    uv_poll_stop(&h->poll);
    CloseHandle(h);
  }
  return told;
}

// close(fd) stopped a batched watcher behind its owner's back: the owner (the async methods' Readiness) is told,
// with the value 0, which no event is, so that the calls waiting on the fd reject now instead of never settling.
// The function is the addon's own module's, which rejects promises and throws nothing; what a promise hook
// run by those rejections throws is dropped, as close() has done its work and must not throw for it.
void TellStopped(napi_env env, napi_value fn) {
  if (fn == nullptr) return;
  napi_value arg, global, result;
  if (napi_create_int32(env, 0, &arg) != napi_ok || napi_get_global(env, &global) != napi_ok) return;
  if (napi_call_function(env, global, fn, 1, &arg, &result) != napi_ok) {
    bool pending = false;
    napi_value exception;
    if (napi_is_exception_pending(env, &pending) == napi_ok && pending) napi_get_and_clear_last_exception(env, &exception);
  }
}

namespace {

void OnTeardown(napi_async_cleanup_hook_handle hook, void* arg) {
  Registry* reg = static_cast<Registry*>(arg);
  reg->tearing_down = true;
  // Copy: CloseHandle edits the table.
  std::vector<Handle*> handles;
  for (auto& kv : reg->open) handles.push_back(kv.second);
  for (Handle* h : handles) {
    if (h->owner != nullptr) h->owner->Detach();
    uv_poll_stop(&h->poll);
    CloseHandle(h);  // which takes it out of the batched queue too: every queued handle is an open one
  }
  if (reg->check != nullptr) {
    uv_check_stop(reg->check);
    reg->closing++;
    uv_close(reinterpret_cast<uv_handle_t*>(reg->check), OnCheckClose);
    reg->check = nullptr;
  }
  reg->batch_context.reset();
  reg->MaybeFinish();
}

// The registry frees itself once the last handle has closed at teardown, so Node must not.
void KeepRegistry(Napi::Env, Registry*) {}

}  // namespace

void InitWatcher(Napi::Env env, Napi::Object exports) {
  Registry* reg = new Registry();
  reg->env = env;
  env.SetInstanceData<Registry, KeepRegistry>(reg);
  napi_status st = napi_add_async_cleanup_hook(env, OnTeardown, reg, &reg->hook);
  if (st != napi_ok) {
    delete reg;
    env.SetInstanceData<Registry, KeepRegistry>(nullptr);
    NAPI_THROW_VOID(Napi::Error::New(env, "sockfd: could not register the environment cleanup hook"));
  }
  exports.Set("Watcher", Watcher::Define(env));
  exports.Set("setWatchBatch", Napi::Function::New(env, SetWatchBatch, "setWatchBatch"));
  exports.Set("setWatchArm", Napi::Function::New(env, SetWatchArm, "setWatchArm"));
  exports.Set("getWatchBatch", Napi::Function::New(env, GetWatchBatch, "getWatchBatch"));
}

}  // namespace sockfd
