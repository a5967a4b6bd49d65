// syndrop_tun: the only C++ in syndrop. Opens a TUN device (optionally inside another
// network namespace), reports readability through libuv, and moves frames between the
// fd and JS-owned slabs in batches (tun-batch.h: a write batch in one io_uring enter where the
// kernel allows it, else a syscall per frame). No per-packet allocation, no thread per packet.

#include <napi.h>
#include <uv.h>

#include "alarm.h"
#include "polled-fd.h"
#include "tun-batch.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <thread>

namespace {

// Result of the open sequence, filled on a helper thread when a netns is given.
struct OpenResult {
  int fd = -1;
  int err = 0;
  const char* syscall = "";
  std::string what;
  std::string hint;
  std::string path;
  std::string ifname;
};

void Fail(OpenResult& result, int err, const char* syscall, std::string what, std::string hint,
          std::string path) {
  result.err = err;
  result.syscall = syscall;
  result.what = std::move(what);
  result.hint = std::move(hint);
  result.path = std::move(path);
}

void OpenTunHere(const std::string& name, bool multiQueue, OpenResult& result) {
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    std::string hint;
    if (err == ENOENT || err == ENODEV || err == ENXIO)
      hint = "load the tun module (modprobe tun)";
    else if (err == EPERM || err == EACCES)
      hint = "needs CAP_NET_ADMIN, run as root";
    Fail(result, err, "open", "opening /dev/net/tun", hint, "/dev/net/tun");
    return;
  }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI | (multiQueue ? IFF_MULTI_QUEUE : 0);
  strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    int err = errno;
    std::string hint;
    if (err == EBUSY)
      hint = "another process has it open (is syndrop already running?)";
    else if (err == EPERM || err == EACCES)
      hint = "needs CAP_NET_ADMIN, run as root";
    else if (err == EINVAL)
      hint = multiQueue ? "the device was created without multi_queue (or is not a TUN device)"
                        : "the device was created with multi_queue, or is a TAP device";
    Fail(result, err, "ioctl", "attaching TUN device " + name, hint, "/dev/net/tun");
    close(fd);
    return;
  }
  // O_NONBLOCK/O_CLOEXEC were set by open(); set them again explicitly so the contract
  // does not depend on open() flags surviving (cheap, once per open).
  int flags = fcntl(fd, F_GETFL);
  if (flags >= 0) fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  fcntl(fd, F_SETFD, FD_CLOEXEC);
  result.fd = fd;
  result.ifname = ifr.ifr_name;
}

// setns(CLONE_NEWNET) changes only the calling thread's namespace. We do it on a short-lived
// helper thread, so the JS thread never leaves its namespace even if restoring failed; the
// helper still restores before exiting. The fd stays bound to the namespace it was opened in.
void OpenTunInNetns(const std::string& name, bool multiQueue, const std::string& netnsPath,
                    OpenResult& result) {
  int target = open(netnsPath.c_str(), O_RDONLY | O_CLOEXEC);
  if (target < 0) {
    int err = errno;
    std::string hint;
    if (err == ENOENT)
      hint = "the lab namespace does not exist, run 'syndrop lab up'";
    else if (err == EACCES || err == EPERM)
      hint = "needs root";
    Fail(result, err, "open", "opening " + netnsPath, hint, netnsPath);
    return;
  }
  int saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (saved < 0) {
    Fail(result, errno, "open", "opening /proc/thread-self/ns/net", "", "/proc/thread-self/ns/net");
    close(target);
    return;
  }
  if (setns(target, CLONE_NEWNET) < 0) {
    int err = errno;
    std::string hint;
    if (err == EPERM) hint = "needs CAP_SYS_ADMIN, run as root";
    else if (err == EINVAL) hint = "not a network namespace file";
    Fail(result, err, "setns", "entering " + netnsPath, hint, netnsPath);
  } else {
    OpenTunHere(name, multiQueue, result);
    if (setns(saved, CLONE_NEWNET) < 0) {
      int err = errno;
      if (result.fd >= 0) close(result.fd);
      result.fd = -1;
      Fail(result, err, "setns", "returning from " + netnsPath, "could not restore the namespace",
           netnsPath);
    }
  }
  close(saved);
  close(target);
}

class Tun : public Napi::ObjectWrap<Tun> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "Tun",
                       {
                           InstanceMethod<&Tun::OnReadable>("onReadable"),
                           InstanceMethod<&Tun::Pause>("pause"),
                           InstanceMethod<&Tun::Resume>("resume"),
                           InstanceMethod<&Tun::RefHandle>("ref"),
                           InstanceMethod<&Tun::UnrefHandle>("unref"),
                           InstanceMethod<&Tun::BindRx>("bindRx"),
                           InstanceMethod<&Tun::ReadBound>("readBound"),
                           InstanceMethod<&Tun::BindTx>("bindTx"),
                           InstanceMethod<&Tun::WriteBound>("writeBound"),
                           InstanceMethod<&Tun::Close>("close"),
                           InstanceAccessor<&Tun::GetFd>("fd"),
                           InstanceAccessor<&Tun::GetName>("name"),
                           InstanceAccessor<&Tun::GetTxDropped>("txDropped"),
                           InstanceAccessor<&Tun::GetIoMode>("ioMode"),
                       });
  }

  // new Tun(name, netnsPath | null, multiQueue, io?): io is 'auto' (io_uring if the kernel
  // allows it, else syscalls; the default), 'uring' (throw if it does not) or 'syscalls'.
  explicit Tun(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Tun>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsString())
      throw Napi::TypeError::New(env, "Tun(name, netns?, multiQueue?): name must be a string");
    std::string name = info[0].As<Napi::String>();
    if (name.empty() || name.size() >= IFNAMSIZ)
      throw Napi::RangeError::New(env, "TUN device name must be 1-15 characters: '" + name + "'");
    std::string netns;
    if (info.Length() > 1 && info[1].IsString()) netns = info[1].As<Napi::String>();
    bool multiQueue = info.Length() > 2 && info[2].ToBoolean();
    std::string io = "auto";
    if (info.Length() > 3 && info[3].IsString()) io = info[3].As<Napi::String>();
    if (io != "auto" && io != "uring" && io != "syscalls")
      throw Napi::RangeError::New(env, "Tun: io must be 'auto', 'uring' or 'syscalls', not '" + io + "'");

    OpenResult result;
    if (netns.empty()) {
      OpenTunHere(name, multiQueue, result);
    } else {
      std::thread helper([&] { OpenTunInNetns(name, multiQueue, netns, result); });
      helper.join();
    }
    if (result.fd < 0) throw SystemError(env, result.err, result.syscall, result.what, result.hint, result.path,
                                         name);
    fd_ = result.fd;
    name_ = result.ifname;

    int rc = batches_.Attach(fd_, io != "syscalls");
    if (rc < 0 && io == "uring") {
      batches_.Detach();
      close(fd_);
      fd_ = -1;
      throw SystemError(env, -rc, "io_uring_setup", "setting up io_uring for TUN device " + name_,
                        "io_uring is unavailable here (kernel.io_uring_disabled, or the kernel is "
                        "too old): use SYNDROP_TUN_IO=syscalls");
    }
    ringRequired_ = io == "uring";
    poll_ = PollFd(env, fd_, this, "polling TUN device " + name_);
  }

  ~Tun() override {
    Shutdown();
    delete context_;
  }

 private:
  // Stops polling, closes the handle (freed in its close callback) and the fd, the batches' ring
  // first: its hold on the file would keep the device attached a while longer. Idempotent.
  void Shutdown() {
    batches_.Detach();
    ClosePolledFd(poll_, fd_);
    polling_ = false;
  }

  void RequireOpen(Napi::Env env, const char* what) {
    if (fd_ < 0) throw Napi::Error::New(env, std::string("TUN device is closed (") + what + ")");
  }

  void StartPoll(Napi::Env env) {
    if (polling_ || poll_ == nullptr || callback_.IsEmpty()) return;
    int rc = uv_poll_start(poll_, UV_READABLE, &Tun::PollCallback);
    if (rc != 0) throw SystemError(env, -rc, "uv_poll_start", "polling TUN device " + name_, "");
    polling_ = true;
    // Keep the JS wrapper alive while the loop may call into it.
    if (!strong_) {
      Ref();
      strong_ = true;
    }
  }

  void StopPoll() {
    if (polling_ && poll_ != nullptr) uv_poll_stop(poll_);
    polling_ = false;
    if (strong_) {
      strong_ = false;
      Unref();
    }
  }

  static void PollCallback(uv_poll_t* handle, int status, int events) {
    Tun* self = static_cast<Tun*>(handle->data);
    if (self == nullptr || self->callback_.IsEmpty() || self->context_ == nullptr) return;
    Napi::Env env = self->Env();
    Napi::HandleScope scope(env);
    Napi::Object receiver = self->Value();
    Napi::Function callback = self->callback_.Value();
    Napi::AsyncContext* context = self->context_;
    self->inCallback_ = true;
    try {
      if (status < 0) {
        // POLLERR/POLLHUP etc.: hand the error to JS and stop, else the loop would spin.
        Napi::Error error =
            SystemError(env, -status, "uv_poll", "polling TUN device " + self->name_, "");
        self->StopPoll();
        callback.MakeCallback(receiver, {error.Value()}, *context);
      } else {
        callback.MakeCallback(receiver, {}, *context);
      }
    } catch (const Napi::Error& error) {
      // The JS callback threw: surface it as an uncaught exception, as an event emitter would.
      napi_fatal_exception(env, error.Value());
    }
    self->inCallback_ = false;
    // close() from inside the callback defers freeing the async context to here.
    if (self->context_ != context) delete context;
  }

  Napi::Value OnReadable(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    RequireOpen(env, "onReadable");
    if (info.Length() < 1 || !info[0].IsFunction())
      throw Napi::TypeError::New(env, "onReadable(callback): callback must be a function");
    callback_ = Napi::Persistent(info[0].As<Napi::Function>());
    if (context_ == nullptr) context_ = new Napi::AsyncContext(env, "syndrop:tun", Value());
    StartPoll(env);
    return env.Undefined();
  }

  Napi::Value Pause(const Napi::CallbackInfo& info) {
    StopPoll();
    return info.Env().Undefined();
  }

  Napi::Value Resume(const Napi::CallbackInfo& info) {
    RequireOpen(info.Env(), "resume");
    StartPoll(info.Env());
    return info.Env().Undefined();
  }

  Napi::Value RefHandle(const Napi::CallbackInfo& info) {
    if (poll_ != nullptr) uv_ref(reinterpret_cast<uv_handle_t*>(poll_));
    return info.Env().Undefined();
  }

  Napi::Value UnrefHandle(const Napi::CallbackInfo& info) {
    if (poll_ != nullptr) uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
    return info.Env().Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    StopPoll();
    Shutdown();
    callback_.Reset();
    rx_ = RxBinding();
    tx_ = TxBinding();  // after Shutdown: the ring no longer holds the slabs' pages
    if (context_ != nullptr) {
      if (!inCallback_) delete context_;
      context_ = nullptr;
    }
    return info.Env().Undefined();
  }

  static uint8_t* BytesOf(Napi::Env env, const Napi::Value& value, size_t* length, const char* arg) {
    if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
      throw Napi::TypeError::New(env, std::string(arg) + " must be a Uint8Array");
    Napi::Uint8Array array = value.As<Napi::Uint8Array>();
    *length = array.ByteLength();
    return array.Data();
  }

  static int32_t* IntsOf(Napi::Env env, const Napi::Value& value, size_t* count, const char* arg) {
    if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
      throw Napi::TypeError::New(env, std::string(arg) + " must be an Int32Array");
    Napi::Int32Array array = value.As<Napi::Int32Array>();
    *count = array.ElementLength();
    return array.Data();
  }

  // Binding a slab once takes the typed-array checks (several napi calls each, ~0.4 µs a call
  // on the bench VM) off every batch: readBatch/writeBatch then pass only a count. The arrays
  // are held by reference so their memory stays put; syndrop never transfers them.
  struct RxBinding {
    Napi::Reference<Napi::Value> slabRef, lengthsRef;
  };
  struct TxBinding {
    Napi::Reference<Napi::Value> slabRef, offsetsRef, lengthsRef;
  };

  // A slab the ring could not register (pinned pages refused): the batches went back to
  // syscalls, unless io_uring was asked for by name.
  void CheckRegistered(Napi::Env env, int rc) {
    if (rc < 0 && ringRequired_)
      throw SystemError(env, -rc, "io_uring_register", "registering a slab with TUN device " + name_ + "'s io_uring", "");
  }

  // bindRx(slab, lengths): frame i of a readBound lands at i * slotSize, slotSize = floor(slab /
  // lengths).
  Napi::Value BindRx(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    size_t slabBytes = 0, slots = 0;
    uint8_t* slab = BytesOf(env, info[0], &slabBytes, "slab");
    int32_t* lengths = IntsOf(env, info[1], &slots, "lengths");
    if (slots > 0 && slabBytes / slots == 0)
      throw Napi::RangeError::New(env, "readBatch: slab smaller than one byte per slot");
    RequireOpen(env, "bindRx");
    batches_.BindRx({slab, slots == 0 ? 0 : slabBytes / slots, lengths, slots});
    rx_.slabRef = Napi::Persistent(info[0]);
    rx_.lengthsRef = Napi::Persistent(info[1]);
    return env.Undefined();
  }

  // readBound(max): at most max frames into the bound slab (max = 1 reads one frame without the
  // read() that would find the queue empty, so a lone SYN's reply can go out first).
  Napi::Value ReadBound(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    RequireOpen(env, "readBatch");
    const syndrop::RxSlots& rx = batches_.rx();
    if (rx.slab == nullptr) throw Napi::Error::New(env, "readBatch: no slab bound (bindRx)");
    int64_t max = info[0].As<Napi::Number>().Int64Value();
    if (max < 0) throw Napi::RangeError::New(env, "readBatch: max must be >= 0");
    size_t slots = static_cast<uint64_t>(max) < rx.slots ? static_cast<size_t>(max) : rx.slots;
    int err = 0;
    size_t count = batches_.Read(slots, &err);
    // After some frames an error hands those over; it resurfaces on the next call.
    if (err != 0 && count == 0) throw SystemError(env, err, "read", "reading TUN device " + name_, "");
    return Napi::Number::New(env, static_cast<double>(count));
  }

  // bindTx(slab, offsets, lengths): the arrays writeBound(count) reads its frames from.
  Napi::Value BindTx(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    size_t slabBytes = 0, offsetCount = 0, lengthCount = 0;
    const uint8_t* slab = BytesOf(env, info[0], &slabBytes, "slab");
    const int32_t* offsets = IntsOf(env, info[1], &offsetCount, "offsets");
    const int32_t* lengths = IntsOf(env, info[2], &lengthCount, "lengths");
    RequireOpen(env, "bindTx");
    CheckRegistered(env, batches_.BindTx({slab, slabBytes, offsets, lengths,
                                          offsetCount < lengthCount ? offsetCount : lengthCount}));
    tx_.slabRef = Napi::Persistent(info[0]);
    tx_.offsetsRef = Napi::Persistent(info[1]);
    tx_.lengthsRef = Napi::Persistent(info[2]);
    return env.Undefined();
  }

  // writeBound(count): returns frames written. A frame the kernel refuses for lack of room or as
  // malformed (EAGAIN, ENOBUFS, ENOMEM, EINVAL, EMSGSIZE) is skipped and counted as dropped, like
  // a full NIC queue; the rest of the batch is still written. dropped = count - written. Other
  // errors (device gone) throw if the first frame met them, else end the batch: the frames
  // written are reported and the error resurfaces on the next call.
  Napi::Value WriteBound(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    RequireOpen(env, "writeBatch");
    const syndrop::TxFrames& tx = batches_.tx();
    if (tx.slab == nullptr) throw Napi::Error::New(env, "writeBatch: no slab bound (bindTx)");
    int64_t requested = info[0].As<Napi::Number>().Int64Value();
    if (requested < 0 || static_cast<size_t>(requested) > tx.entries)
      throw Napi::RangeError::New(env, "writeBatch: count exceeds offsets/lengths length");
    size_t count = static_cast<size_t>(requested);
    // Validate the whole batch first so a bad entry cannot leave it half written.
    for (size_t i = 0; i < count; i++) {
      if (tx.offsets[i] < 0 || tx.lengths[i] <= 0 ||
          static_cast<size_t>(tx.offsets[i]) + static_cast<size_t>(tx.lengths[i]) > tx.slabBytes)
        throw Napi::RangeError::New(env, "writeBatch: frame " + std::to_string(i) +
                                             " (offset " + std::to_string(tx.offsets[i]) +
                                             ", length " + std::to_string(tx.lengths[i]) +
                                             ") is outside the slab");
    }
    syndrop::WriteOutcome outcome = batches_.Write(count);
    if (outcome.err != 0 && outcome.failedAt == 0 && outcome.written == 0)
      throw SystemError(env, outcome.err, "write", "writing TUN device " + name_, "");
    return Napi::Number::New(env, static_cast<double>(outcome.written));
  }

  Napi::Value GetFd(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), fd_); }
  Napi::Value GetName(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), name_); }
  Napi::Value GetTxDropped(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(batches_.txDropped()));
  }
  Napi::Value GetIoMode(const Napi::CallbackInfo& info) {
    return Napi::String::New(info.Env(), batches_.UsesRing() ? "uring" : "syscalls");
  }

  int fd_ = -1;
  std::string name_;
  uv_poll_t* poll_ = nullptr;
  bool polling_ = false;
  bool strong_ = false;
  bool inCallback_ = false;
  Napi::FunctionReference callback_;
  Napi::AsyncContext* context_ = nullptr;
  RxBinding rx_;
  TxBinding tx_;
  syndrop::TunBatches batches_;
  bool ringRequired_ = false;
};

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("Tun", Tun::Init(env));
  exports.Set("Alarm", syndrop::AlarmClass(env));
  return exports;
}

}  // namespace

NODE_API_MODULE(syndrop_tun, Init)
