// The registries behind SelectSelector and PollSelector. The registered fds live here, in native memory, so
// that a steady-state wait is one call from JavaScript that writes the ready (fd, events) pairs into a
// caller-owned Int32Array: O(ready) work on the JavaScript side, nothing allocated. Events are the
// selectors' EVENT_READ (1) and EVENT_WRITE (2), with Python's rule that hang-up and error wake both.
// (EpollSelector needs no registry here: the kernel keeps it.)
#include <fcntl.h>
#include <poll.h>
#include <sys/select.h>

#include <algorithm>
#include <cstring>
#include <unordered_map>
#include <vector>

#include "common.h"

namespace sockfd {
namespace {

int EventsArg(const Napi::CallbackInfo& info, size_t i) {
  return static_cast<int>(IntArg(info, i, "events", 1, kEventRead | kEventWrite));
}

struct OutArray {
  int32_t* data;
  size_t pairs;
};

OutArray OutArg(const Napi::CallbackInfo& info, size_t i) {
  Int32Span a = Int32ArrayArg(info, i, "out");
  return OutArray{a.data, a.length / 2};
}

// Common bookkeeping: the registered fds in a dense vector, with an index for O(1) lookup and removal.
template <typename Entry>
class Registry {
 public:
  std::vector<Entry> entries;
  std::unordered_map<int, size_t> index;

  bool Has(int fd) const { return index.count(fd) != 0; }
  Entry* Find(int fd) {
    auto it = index.find(fd);
    return it == index.end() ? nullptr : &entries[it->second];
  }
  void Add(int fd, const Entry& e) {
    index[fd] = entries.size();
    entries.push_back(e);
  }
  bool Remove(int fd, int (*fd_of)(const Entry&)) {
    auto it = index.find(fd);
    if (it == index.end()) return false;
    size_t slot = it->second;
    index.erase(it);
    if (slot != entries.size() - 1) {
      entries[slot] = entries.back();
      index[fd_of(entries[slot])] = slot;
    }
    entries.pop_back();
    return true;
  }
};

// `size` is an accessor, and Node-API gives accessors no V8 signature (methods have one): read through another
// object (PollSet's getter on a SelectSet or a Watcher) node-addon-api's wrapper would reinterpret that object's
// memory as this class. So each instance carries a type tag, checked before the unwrap.
constexpr napi_type_tag kPollSetTag = {0x5c0cdf0d1a7e4b21ULL, 0x9d3f6a8e2b714c55ULL};
constexpr napi_type_tag kSelectSetTag = {0x5c0cdf0d1a7e4b21ULL, 0x9d3f6a8e2b714c56ULL};

template <typename T, const napi_type_tag* Tag>
napi_value SizeGetter(napi_env env, napi_callback_info cbinfo) {
  napi_value self = nullptr;
  bool tagged = false;
  void* wrapped = nullptr;
  if (napi_get_cb_info(env, cbinfo, nullptr, nullptr, &self, nullptr) != napi_ok ||
      napi_check_object_type_tag(env, self, Tag, &tagged) != napi_ok || !tagged ||
      napi_unwrap(env, self, &wrapped) != napi_ok || wrapped == nullptr) {
    napi_throw_type_error(env, nullptr, "Illegal invocation");
    return nullptr;
  }
  napi_value out = nullptr;
  napi_create_double(env, static_cast<double>(static_cast<T*>(wrapped)->Count()), &out);
  return out;
}

template <typename T, const napi_type_tag* Tag>
Napi::ClassPropertyDescriptor<T> SizeAccessor() {
  return Napi::ClassPropertyDescriptor<T>(
      napi_property_descriptor{"size", nullptr, nullptr, SizeGetter<T, Tag>, nullptr, nullptr, napi_default, nullptr});
}

// ---- PollSet: a pollfd array kept between calls --------------------------------------------------------

int PollFdOf(const pollfd& p) { return p.fd; }

short ToPoll(int events) {
  return static_cast<short>(((events & kEventRead) ? POLLIN : 0) | ((events & kEventWrite) ? POLLOUT : 0));
}

class PollSet : public Napi::ObjectWrap<PollSet> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "PollSet",
                       {InstanceMethod<&PollSet::Add>("add"), InstanceMethod<&PollSet::Modify>("modify"),
                        InstanceMethod<&PollSet::Remove>("remove"), InstanceMethod<&PollSet::Wait>("wait"),
                        SizeAccessor<PollSet, &kPollSetTag>()});
  }
  explicit PollSet(const Napi::CallbackInfo& info) : Napi::ObjectWrap<PollSet>(info) {
    info.This().As<Napi::Object>().TypeTag(&kPollSetTag);
  }
  size_t Count() const { return reg_.entries.size(); }

 private:
  Registry<pollfd> reg_;

  Napi::Value Add(const Napi::CallbackInfo& info) {
    int fd = FdArg(info);
    int events = EventsArg(info, 1);
    if (reg_.Has(fd)) ThrowErrno(info.Env(), EEXIST, "register");
    reg_.Add(fd, pollfd{fd, ToPoll(events), 0});
    return info.Env().Undefined();
  }
  Napi::Value Modify(const Napi::CallbackInfo& info) {
    int fd = FdArg(info);
    int events = EventsArg(info, 1);
    pollfd* p = reg_.Find(fd);
    if (p == nullptr) ThrowErrno(info.Env(), ENOENT, "modify");
    p->events = ToPoll(events);
    return info.Env().Undefined();
  }
  Napi::Value Remove(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), reg_.Remove(FdArg(info), PollFdOf));
  }

  // wait(out: Int32Array, timeoutMs) -> n; out[2k] = fd, out[2k+1] = EVENT_READ | EVENT_WRITE
  Napi::Value Wait(const Napi::CallbackInfo& info) {
    OutArray out = OutArg(info, 0);
    int timeout = TimeoutArg(info, 1);
    std::vector<pollfd>& fds = reg_.entries;
    int r = SlicedWait(info.Env(), timeout, [&](int ms) { return ::poll(fds.data(), static_cast<nfds_t>(fds.size()), ms); });
    if (r < 0) ThrowErrno(info.Env(), errno, "poll");
    size_t n = 0;
    for (size_t k = 0; k < fds.size() && n < static_cast<size_t>(r) && n < out.pairs; k++) {
      short re = fds[k].revents;
      if (re == 0) continue;
      int ev = 0;
      if (re & ~POLLIN) ev |= kEventWrite;  // POLLOUT, or hang-up/error/invalid: wake writers too
      if (re & ~POLLOUT) ev |= kEventRead;  // POLLIN, or hang-up/error/invalid: wake readers too
      int want = ((fds[k].events & POLLIN) ? kEventRead : 0) | ((fds[k].events & POLLOUT) ? kEventWrite : 0);
      ev &= want;
      if (ev == 0) continue;
      out.data[2 * n] = fds[k].fd;
      out.data[2 * n + 1] = ev;
      n++;
    }
    return Napi::Number::New(info.Env(), static_cast<double>(n));
  }
};

// ---- SelectSet: master fd_sets copied into each call ---------------------------------------------------

struct SelectEntry {
  int fd;
  int events;
};
int SelectFdOf(const SelectEntry& e) { return e.fd; }

class SelectSet : public Napi::ObjectWrap<SelectSet> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "SelectSet",
                       {InstanceMethod<&SelectSet::Add>("add"), InstanceMethod<&SelectSet::Modify>("modify"),
                        InstanceMethod<&SelectSet::Remove>("remove"), InstanceMethod<&SelectSet::Wait>("wait"),
                        SizeAccessor<SelectSet, &kSelectSetTag>()});
  }
  explicit SelectSet(const Napi::CallbackInfo& info) : Napi::ObjectWrap<SelectSet>(info) {
    info.This().As<Napi::Object>().TypeTag(&kSelectSetTag);
    FD_ZERO(&read_);
    FD_ZERO(&write_);
  }
  size_t Count() const { return reg_.entries.size(); }

 private:
  Registry<SelectEntry> reg_;
  fd_set read_, write_;
  int max_ = -1;
  int writers_ = 0;  // registrations that watch EVENT_WRITE

  int SelectFd(const Napi::CallbackInfo& info) {
    int fd = FdArg(info);
    // fd_set is a fixed bitmap: FD_SET past FD_SETSIZE would write out of bounds.
    if (fd >= FD_SETSIZE) {
      ThrowRangeError(info.Env(), "The value of \"fd\" is out of range. select() takes fds < FD_SETSIZE (" +
                                      std::to_string(FD_SETSIZE) + "); received " + std::to_string(fd));
    }
    return fd;
  }
  void Apply(int fd, int events) {
    if (events & kEventRead) FD_SET(fd, &read_); else FD_CLR(fd, &read_);
    bool was = FD_ISSET(fd, &write_);
    if (events & kEventWrite) FD_SET(fd, &write_); else FD_CLR(fd, &write_);
    writers_ += static_cast<int>(FD_ISSET(fd, &write_) != 0) - static_cast<int>(was);
  }
  Napi::Value Add(const Napi::CallbackInfo& info) {
    int fd = SelectFd(info);
    int events = EventsArg(info, 1);
    if (reg_.Has(fd)) ThrowErrno(info.Env(), EEXIST, "register");
    reg_.Add(fd, SelectEntry{fd, events});
    Apply(fd, events);
    if (fd > max_) max_ = fd;
    return info.Env().Undefined();
  }
  Napi::Value Modify(const Napi::CallbackInfo& info) {
    int fd = SelectFd(info);
    int events = EventsArg(info, 1);
    SelectEntry* e = reg_.Find(fd);
    if (e == nullptr) ThrowErrno(info.Env(), ENOENT, "modify");
    e->events = events;
    Apply(fd, events);
    return info.Env().Undefined();
  }
  Napi::Value Remove(const Napi::CallbackInfo& info) {
    int fd = FdArg(info);
    if (fd >= FD_SETSIZE || !reg_.Remove(fd, SelectFdOf)) return Napi::Boolean::New(info.Env(), false);
    Apply(fd, 0);
    if (fd == max_) {
      max_ = -1;
      for (const SelectEntry& e : reg_.entries) max_ = std::max(max_, e.fd);
    }
    return Napi::Boolean::New(info.Env(), true);
  }

  // wait(out: Int32Array, timeoutMs) -> n; out[2k] = fd, out[2k+1] = EVENT_READ | EVENT_WRITE
  Napi::Value Wait(const Napi::CallbackInfo& info) {
    OutArray out = OutArg(info, 0);
    int timeout = TimeoutArg(info, 1);
    fd_set r, w;
    int rc = SlicedWait(info.Env(), timeout, [&](int wait) {
      std::memcpy(&r, &read_, sizeof(r));
      std::memcpy(&w, &write_, sizeof(w));
      struct timeval tv;
      tv.tv_sec = wait / 1000;
      tv.tv_usec = (wait % 1000) * 1000;
      // No write set when nothing waits to write: the kernel then scans one bitmap, not two.
      return ::select(max_ + 1, &r, writers_ > 0 ? &w : nullptr, nullptr, wait >= 0 ? &tv : nullptr);
    });
    size_t n = 0;
    if (rc < 0) {
      int err = errno;
      if (err != EBADF) ThrowErrno(info.Env(), err, "select");
      // A registered fd was closed. poll() reports such an fd as POLLNVAL, which PollSelector turns into
      // "ready"; do the same here, so that the caller's next read or write meets the EBADF, whatever the backend.
      for (const SelectEntry& e : reg_.entries) {
        if (n >= out.pairs) break;
        if (::fcntl(e.fd, F_GETFD) < 0 && errno == EBADF) {
          out.data[2 * n] = e.fd;
          out.data[2 * n + 1] = e.events;
          n++;
        }
      }
      if (n == 0) ThrowErrno(info.Env(), err, "select");
      return Napi::Number::New(info.Env(), static_cast<double>(n));
    }
    // rc counts set bits over both sets; stop scanning once all of them are found.
    int bits = 0;
    for (const SelectEntry& e : reg_.entries) {
      if (n >= out.pairs || bits >= rc) break;
      int ev = (FD_ISSET(e.fd, &r) ? kEventRead : 0) | (writers_ > 0 && FD_ISSET(e.fd, &w) ? kEventWrite : 0);
      if (ev == 0) continue;
      bits += (ev & kEventRead ? 1 : 0) + (ev & kEventWrite ? 1 : 0);
      out.data[2 * n] = e.fd;
      out.data[2 * n + 1] = ev;
      n++;
    }
    return Napi::Number::New(info.Env(), static_cast<double>(n));
  }
};

}  // namespace

void InitSelectors(Napi::Env env, Napi::Object exports) {
  exports.Set("PollSet", PollSet::Define(env));
  exports.Set("SelectSet", SelectSet::Define(env));
}

}  // namespace sockfd
