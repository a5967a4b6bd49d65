// The TUN's batches: frames between the fd and the slabs JS bound. Reads are one read() per
// frame; writes go through an io_uring while one is open (tun-ring.h: one io_uring_enter per
// batch), else one write() per frame. The N-API side (binding, validation, errors) is tun.cc's;
// this only moves frames and counts them.
#pragma once

#include "tun-ring.h"

#include <sys/types.h>

#include <cstddef>
#include <cstdint>

namespace syndrop {

// Where readBound puts frames: frame i at slab + i * slotSize, its length in lengths[i].
struct RxSlots {
  uint8_t* slab = nullptr;
  size_t slotSize = 0;
  int32_t* lengths = nullptr;
  size_t slots = 0;
};

// Where writeBound takes frames from: frame i is slab[offsets[i] .. + lengths[i]).
struct TxFrames {
  const uint8_t* slab = nullptr;
  size_t slabBytes = 0;
  const int32_t* offsets = nullptr;
  const int32_t* lengths = nullptr;
  size_t entries = 0;
};

// How a write batch ended: frames written, and the error that stopped it (0: none) at failedAt.
struct WriteOutcome {
  size_t written = 0;
  int err = 0;
  size_t failedAt = 0;
};

class TunBatches {
 public:
  // Batches on fd; with useRing, through an io_uring if the kernel gives one. Returns 0, or the
  // -errno that kept the ring from opening (the batches then use syscalls).
  int Attach(int fd, bool useRing);
  // Closes the ring (it holds the file and the slabs' pages) and forgets the fd and slabs.
  void Detach();
  bool UsesRing() const { return ring_.IsOpen(); }

  void BindRx(const RxSlots& rx) { rx_ = rx; }
  // 0, or -errno if the ring could not register the slab: it is closed then, syscalls from now.
  int BindTx(const TxFrames& tx);
  const RxSlots& rx() const { return rx_; }
  const TxFrames& tx() const { return tx_; }

  // Up to max (<= rx().slots) frames into the rx slots, in arrival order. A hard error sets *err;
  // the frames read before it are still returned (the error resurfaces on the next call).
  size_t Read(size_t max, int* err);
  // Frames [0, count) of the tx arrays, validated by the caller. A frame the kernel refuses for
  // lack of room or as malformed (EAGAIN, ENOBUFS, ENOMEM, EINVAL, EMSGSIZE) is skipped and
  // counted in txDropped(); another error ends the batch.
  WriteOutcome Write(size_t count);
  uint64_t txDropped() const { return txDropped_; }

 private:
  ssize_t WriteOne(size_t i);
  void Account(ssize_t result, size_t i, WriteOutcome& outcome);
  size_t WriteRing(size_t count, WriteOutcome& outcome);

  int fd_ = -1;
  RxSlots rx_;
  TxFrames tx_;
  TunRing ring_;
  uint64_t txDropped_ = 0;
  // Per-frame results of one ring batch, reused: no allocation per batch.
  int32_t results_[TunRing::kDepth];
};

}  // namespace syndrop
