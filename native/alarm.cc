// syndrop_tun's Alarm: a one-shot timer with microsecond precision (a timerfd polled by libuv).
// The frame loop's timers fire on whole virtual milliseconds; a libuv timer wakes up to a
// millisecond late, at the same phase within the millisecond as the frames that armed it, so
// a fresh SYN of that millisecond usually arrived first and waited for the expiry work ahead
// of its reply. A timerfd wakes at the millisecond's start, before that SYN.

#include "alarm.h"
#include "polled-fd.h"

#include <uv.h>

#include <errno.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>

namespace syndrop {

namespace {

class Alarm : public Napi::ObjectWrap<Alarm> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "Alarm",
                       {
                           InstanceMethod<&Alarm::Arm>("arm"),
                           InstanceMethod<&Alarm::Cancel>("cancel"),
                           InstanceMethod<&Alarm::Close>("close"),
                       });
  }

  // new Alarm(callback): disarmed; the callback runs once per arm() that was not cancelled.
  explicit Alarm(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Alarm>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsFunction())
      throw Napi::TypeError::New(env, "Alarm(callback): callback must be a function");
    fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (fd_ < 0) throw SystemError(env, errno, "timerfd_create", "creating the frame loop's alarm", "");
    poll_ = PollFd(env, fd_, this, "polling the frame loop's alarm");
    int rc = uv_poll_start(poll_, UV_READABLE, &Alarm::OnReadable);
    if (rc != 0) {
      Shutdown();
      throw SystemError(env, -rc, "uv_poll_start", "polling the frame loop's alarm", "");
    }
    // Polled for good (no epoll_ctl per arm); only an armed alarm keeps the loop alive, like
    // a pending setTimeout.
    uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
    callback_ = Napi::Persistent(info[0].As<Napi::Function>());
    context_ = new Napi::AsyncContext(env, "syndrop:alarm", Value());
    Ref();  // the loop may call into this object until close()
  }

  ~Alarm() override {
    Shutdown();
    delete context_;
  }

 private:
  void Shutdown() { ClosePolledFd(poll_, fd_); }

  void SetTimer(Napi::Env env, int64_t ns) {
    struct itimerspec spec;
    memset(&spec, 0, sizeof spec);
    spec.it_value.tv_sec = static_cast<time_t>(ns / 1000000000);
    spec.it_value.tv_nsec = static_cast<long>(ns % 1000000000);
    if (timerfd_settime(fd_, 0, &spec, nullptr) < 0)
      throw SystemError(env, errno, "timerfd_settime", "arming the frame loop's alarm", "");
  }

  // arm(delayMs): fire once, delayMs (fractional) from now; replaces a pending arm.
  Napi::Value Arm(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (fd_ < 0) throw Napi::Error::New(env, "alarm is closed");
    double ms = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().DoubleValue() : NAN;
    if (!std::isfinite(ms)) throw Napi::RangeError::New(env, "arm(delayMs): delayMs must be a finite number");
    // 0 would disarm the timerfd: a due alarm fires after 1 ns, i.e. on the next poll.
    int64_t ns = ms <= 0 ? 1 : static_cast<int64_t>(std::ceil(ms * 1e6));
    SetTimer(env, ns < 1 ? 1 : ns);
    uv_ref(reinterpret_cast<uv_handle_t*>(poll_));
    return env.Undefined();
  }

  Napi::Value Cancel(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (fd_ < 0) return env.Undefined();
    SetTimer(env, 0);
    Drain();
    uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
    return env.Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (fd_ >= 0) {
      Shutdown();
      callback_.Reset();
      Unref();
    }
    return info.Env().Undefined();
  }

  // Reads the expiration count so the fd is no longer readable; false if it had not expired.
  bool Drain() {
    uint64_t expirations = 0;
    return read(fd_, &expirations, sizeof expirations) == static_cast<ssize_t>(sizeof expirations);
  }

  static void OnReadable(uv_poll_t* handle, int status, int events) {
    Alarm* self = static_cast<Alarm*>(handle->data);
    if (self == nullptr || self->fd_ < 0 || self->callback_.IsEmpty()) return;
    if (!self->Drain() && status >= 0) return;  // cancelled after it became readable
    uv_unref(reinterpret_cast<uv_handle_t*>(self->poll_));
    Napi::Env env = self->Env();
    Napi::HandleScope scope(env);
    try {
      self->callback_.Value().MakeCallback(self->Value(), {}, *self->context_);
    } catch (const Napi::Error& error) {
      napi_fatal_exception(env, error.Value());
    }
  }

  int fd_ = -1;
  uv_poll_t* poll_ = nullptr;
  Napi::FunctionReference callback_;
  Napi::AsyncContext* context_ = nullptr;
};

}  // namespace

Napi::Function AlarmClass(Napi::Env env) { return Alarm::Init(env); }

}  // namespace syndrop
