// A file descriptor its object owns, watched by a libuv poll handle on Node's loop: the TUN
// device (tun.cc) and the frame loop's timerfd (alarm.cc) open and close theirs the same way.
#pragma once

#include <napi.h>
#include <uv.h>

#include <unistd.h>

#include <string>

#include "system-error.h"

namespace {

// A poll handle for `fd` on the env's loop, its callbacks' data set to `data`. On failure the
// fd is closed (and set to -1) before the error is thrown, so the caller holds nothing.
uv_poll_t* PollFd(Napi::Env env, int& fd, void* data, const std::string& what) {
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) {
    close(fd);
    fd = -1;
    throw Napi::Error::New(env, "syndrop_tun: no libuv loop");
  }
  uv_poll_t* poll = new uv_poll_t;
  int rc = uv_poll_init(loop, poll, fd);
  if (rc != 0) {
    delete poll;
    close(fd);
    fd = -1;
    throw SystemError(env, -rc, "uv_poll_init", what, "");
  }
  poll->data = data;
  return poll;
}

// Stops polling, closes the handle (freed in its close callback) and the fd. Idempotent.
void ClosePolledFd(uv_poll_t*& poll, int& fd) {
  if (poll != nullptr) {
    uv_poll_stop(poll);
    poll->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(poll), [](uv_handle_t* handle) { delete reinterpret_cast<uv_poll_t*>(handle); });
    poll = nullptr;
  }
  if (fd >= 0) {
    close(fd);
    fd = -1;
  }
}

}  // namespace
