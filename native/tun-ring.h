// An io_uring for one TUN fd: a whole batch of frame writes in one io_uring_enter instead of one
// write() syscall per frame (issue 21). The TUN file is registered (no fd lookup per frame) and
// so is the tx slab (no page walk per frame); every request carries RWF_NOWAIT, so each one
// completes inside the enter with what write() on the O_NONBLOCK fd would have returned, -EAGAIN
// included, and none is left in flight. Reads stay read(): through the ring they cost as much
// per frame or more (measured; see tun-batch.cc), the per-frame work being the kernel's own.
#pragma once

#include <liburing.h>

#include <cstddef>
#include <cstdint>

namespace syndrop {

class TunRing {
 public:
  // Frames one io_uring_enter carries at most (the SQ size); a longer batch takes several.
  static constexpr unsigned kDepth = 256;

  TunRing() = default;
  TunRing(const TunRing&) = delete;
  TunRing& operator=(const TunRing&) = delete;
  ~TunRing() { Close(); }

  // 0, or -errno when io_uring cannot be used here (io_uring_setup: ENOSYS on a kernel without
  // it, EPERM when kernel.io_uring_disabled forbids it; the registrations fail on old kernels).
  int Open(int fd);
  // Releases the registered file first, so closing the TUN fd detaches the device at once (the
  // ring's own teardown is asynchronous and would hold the file a while longer).
  void Close();
  bool IsOpen() const { return open_; }

  // Registers the tx slab (`bytes` at `data`) as the fixed buffer writes come from, replacing
  // the previous one. 0 or -errno (e.g. ENOMEM/EPERM: the slab cannot be pinned).
  int RegisterTxSlab(const uint8_t* data, size_t bytes);

  // Frame i < count (count <= kDepth) is slab[offsets[i] .. + lengths[i]); results[i] becomes
  // what write() would have returned: bytes written or -errno. 0, or -errno if io_uring_enter
  // itself failed, in which case no frame was written.
  int Write(const uint8_t* slab, const int32_t* offsets, const int32_t* lengths, size_t count,
            int32_t* results);

 private:
  int Complete(unsigned queued, int32_t* results);

  io_uring ring_{};
  bool open_ = false;
};

}  // namespace syndrop
