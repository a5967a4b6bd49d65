// The Alarm class of the syndrop_tun addon (alarm.cc): a microsecond one-shot timer for the frame loop.
#pragma once

#include <napi.h>

namespace syndrop {

Napi::Function AlarmClass(Napi::Env env);

}  // namespace syndrop
