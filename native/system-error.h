// Node-style system errors for the syndrop_tun addon (tun.cc, alarm.cc).
#pragma once

#include <napi.h>

#include <string.h>

#include <string>

namespace {

std::string ErrnoName(int err) {
  const char* name = strerrorname_np(err);
  return name != nullptr ? std::string(name) : "E" + std::to_string(err);
}

// Node-style system error: .code = errno name, .errno = negative errno (as libuv/Node
// report it), .syscall; the message starts with the code and says what to do.
// .path names the file the call was about (the netns file, /dev/net/tun) and .device the
// TUN device, so callers can tell "no lab" from "no tun module" without parsing messages.
Napi::Error SystemError(Napi::Env env, int err, const char* syscall, const std::string& what,
                        const std::string& hint, const std::string& path = "",
                        const std::string& device = "") {
  std::string message = ErrnoName(err) + " " + what + ": " + (hint.empty() ? strerror(err) : hint);
  Napi::Error error = Napi::Error::New(env, message);
  error.Value().Set("code", Napi::String::New(env, ErrnoName(err)));
  error.Value().Set("errno", Napi::Number::New(env, -err));
  error.Value().Set("syscall", Napi::String::New(env, syscall));
  if (!path.empty()) error.Value().Set("path", Napi::String::New(env, path));
  if (!device.empty()) error.Value().Set("device", Napi::String::New(env, device));
  return error;
}

}  // namespace
