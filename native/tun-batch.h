// The TUN's batches: frames between the fd and the slabs JS bound, one read()/write() per frame.
// The N-API side (binding, validation, errors) is tun.cc's; this only moves frames and counts
// them.
#pragma once

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
  void Attach(int fd);
  // Forgets the fd and the slabs.
  void Detach();

  void BindRx(const RxSlots& rx) { rx_ = rx; }
  void BindTx(const TxFrames& tx) { tx_ = tx; }
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

  int fd_ = -1;
  RxSlots rx_;
  TxFrames tx_;
  uint64_t txDropped_ = 0;
};

}  // namespace syndrop
