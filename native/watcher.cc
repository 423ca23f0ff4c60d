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
#include <fcntl.h>
#include <uv.h>
#ifdef __linux__
#include <sys/epoll.h>
#endif

#include <memory>
#include <unordered_map>
#include <vector>

#include "common.h"

namespace sockfd {
namespace {

class Watcher;

struct Registry;

struct Handle {
  uv_poll_t poll;
  Registry* registry;
  int fd;
  Watcher* owner;  // null once the JavaScript object let go of it
};

// One per environment: the open handles, and the cleanup hook waiting for them at teardown.
struct Registry {
  napi_env env;
  napi_async_cleanup_hook_handle hook = nullptr;
  std::unordered_map<int, Handle*> open;  // by fd: handles not yet closing
  int closing = 0;                        // uv_close called, callback not yet run
  bool tearing_down = false;

  void MaybeFinish() {
    if (tearing_down && open.empty() && closing == 0) {
      napi_async_cleanup_hook_handle h = hook;
      delete this;
      napi_remove_async_cleanup_hook(h);
    }
  }
};

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
  auto it = reg->open.find(handle->fd);
  if (it != reg->open.end() && it->second == handle) reg->open.erase(it);
  handle->owner = nullptr;
  reg->closing++;
  uv_close(reinterpret_cast<uv_handle_t*>(&handle->poll), OnClose);
}

void OnTeardown(napi_async_cleanup_hook_handle hook, void* arg);

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
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) ThrowErrno(env, ENOSYS, "watch");
    std::unique_ptr<Handle> handle(new Handle{});
    handle->registry = reg;
    handle->fd = fd;
    int rc = uv_poll_init(loop, &handle->poll, fd);  // also makes the fd non-blocking, as libuv requires
    if (rc < 0) ThrowErrno(env, -rc, "watch");       // nothing to undo: libuv keeps no failed handle
    handle->owner = this;
    handle_ = handle.release();
    handle_->poll.data = handle_;
    reg->open[fd] = handle_;
    try {
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

 private:
  static constexpr const char* kCallbackKey = "callback";
  Handle* handle_ = nullptr;
  std::unique_ptr<Napi::AsyncContext> context_;
  Napi::FunctionReference callback_;  // weak: the callback property holds the function
  bool started_ = false;
  bool stopped_ = false;  // stop() was called: final
  int events_ = 0;

  // Stops polling, lets the object be collected, and closes the handle; idempotent. Runs no JavaScript.
  void Release() {
    stopped_ = true;
    if (handle_ == nullptr) return;
    if (started_) {
      uv_poll_stop(&handle_->poll);
      started_ = false;
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
        started_ = false;
        Unref();  // a stopped watcher may be collected
      }
      return;
    }
    int rc = PollStart(&handle_->poll, handle_->fd, events, OnPoll);
    if (rc < 0) {
      events_ = 0;
      if (started_) {
        started_ = false;  // libuv stopped the handle
        Unref();
      }
      ThrowErrno(env, -rc, "watch");
    }
    if (!started_) {
      Ref();  // while started, the object must stay alive to receive events (first: if it throws, not started)
      started_ = true;
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
    Handle* handle = static_cast<Handle*>(poll->data);
    if (handle->owner != nullptr) handle->owner->Fire(status, events);
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
    if (status == UV_EBADF && handle_ != nullptr && ::fcntl(handle_->fd, F_GETFD) >= 0) {
      // libuv reports POLLERR (a refused connect, a reset) as UV_EBADF and stops the handle. The fd is fine:
      // an error is pending on it, which the next system call returns. Report it as readiness for everything
      // watched, as select and poll do, and keep watching.
      status = PollStart(&handle_->poll, handle_->fd, events_, OnPoll);
      events = events_;  // all of them, as libuv does for POLLHUP: a watcher of WATCH_DISCONNECT alone must not get 0
    }
    if (status < 0 && started_) {
      started_ = false;  // libuv stopped the handle
      Unref();
    }
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
      napi_value result;
      if (napi_make_callback(env, *context_, self, fn, 2, args, &result) != napi_ok) {
        bool pending = false;
        napi_value exception;
        if (napi_is_exception_pending(env, &pending) == napi_ok && pending &&
            napi_get_and_clear_last_exception(env, &exception) == napi_ok) {
          // Nobody up the stack can catch it: it is the process's uncaught exception, as for any Node callback.
          napi_fatal_exception(env, exception);
        }
        // Otherwise JavaScript could not run: the environment began to stop after the check above.
      }
    } catch (const Napi::Error&) {
      // Building the arguments failed: the environment began to stop after the check above. No C++ exception
      // may leave a libuv callback.
    }
  }

  friend void OnTeardown(napi_async_cleanup_hook_handle, void*);
  friend void sockfd::StopWatcherForClose(napi_env, int);
};

}  // namespace

void StopWatcherForClose(napi_env env, int fd) {
  Registry* reg = nullptr;
  if (napi_get_instance_data(env, reinterpret_cast<void**>(&reg)) != napi_ok || reg == nullptr) return;
  auto it = reg->open.find(fd);
  if (it == reg->open.end()) return;
  Handle* h = it->second;
  if (h->owner != nullptr) {
    h->owner->StopForClose();
  } else {
    uv_poll_stop(&h->poll);
    CloseHandle(h);
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
    CloseHandle(h);
  }
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
}

}  // namespace sockfd
