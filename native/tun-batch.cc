// TunBatches (tun-batch.h): both ways of writing a batch, with one set of rules for what a
// frame's result means, so the wire and the counters do not depend on which way was taken.

#include "tun-batch.h"

#include <errno.h>
#include <unistd.h>

#include <algorithm>
#include <climits>

namespace syndrop {

namespace {

// Below this many frames a batch is written with write(): an io_uring_enter for one frame costs
// more than a write() (bench VM, kernel 6.18, frames the kernel drops on input: ~2.4 vs ~1.9 µs
// per frame at 1, even at 3-4, from 6 on ~10-15 % less per frame, at 64 ~20 % less).
constexpr size_t kRingMinWrites = 4;

bool IsEmptyQueue(int err) { return err == EAGAIN || err == EWOULDBLOCK; }

}  // namespace

int TunBatches::Attach(int fd, bool useRing) {
  Detach();
  fd_ = fd;
  return useRing ? ring_.Open(fd) : 0;
}

void TunBatches::Detach() {
  ring_.Close();
  fd_ = -1;
  rx_ = RxSlots();
  tx_ = TxFrames();
}

int TunBatches::BindTx(const TxFrames& tx) {
  tx_ = tx;
  if (!ring_.IsOpen()) return 0;
  int rc = ring_.RegisterTxSlab(tx.slab, tx.slabBytes);
  if (rc < 0) ring_.Close();
  return rc;
}

// Reads stay one read() per frame. Through the ring (RWF_NOWAIT reads into the registered rx
// slab) they cost as much or more: reading 64 queued frames took 520-560 ns a frame in chunks
// of 16 and 720-740 in chunks of 64 (the reads that find the queue empty are not free) against
// 570-580 with read(); in the bench's TUN section ring reads on top of ring writes changed CPU
// per SYN-ACK by +2-4 % (within noise). The per-frame cost of a read is the kernel's own work.
size_t TunBatches::Read(size_t max, int* err) {
  size_t count = 0;
  while (count < max) {
    ssize_t n = read(fd_, rx_.slab + count * rx_.slotSize, rx_.slotSize);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (!IsEmptyQueue(errno)) *err = errno;
      break;
    }
    // A frame longer than the slot is cut to it and read() returns the cut length
    // (tun_chr_read_iter: min(frame, buffer)); the clamp only guards the next slot.
    if (static_cast<size_t>(n) > rx_.slotSize) n = static_cast<ssize_t>(rx_.slotSize);
    rx_.lengths[count++] = static_cast<int32_t>(n);
  }
  return count;
}

WriteOutcome TunBatches::Write(size_t count) {
  WriteOutcome outcome;
  size_t next = ring_.IsOpen() && count >= kRingMinWrites ? WriteRing(count, outcome) : 0;
  for (; next < count && outcome.err == 0; next++) Account(WriteOne(next), next, outcome);
  return outcome;
}

// write() of frame i: bytes written or -errno.
ssize_t TunBatches::WriteOne(size_t i) {
  ssize_t n;
  do {
    n = write(fd_, tx_.slab + tx_.offsets[i], static_cast<size_t>(tx_.lengths[i]));
  } while (n < 0 && errno == EINTR);
  return n >= 0 ? n : -errno;
}

// Frame i's result: written, dropped, or the error that ends the batch.
void TunBatches::Account(ssize_t result, size_t i, WriteOutcome& outcome) {
  if (result >= 0) {
    outcome.written++;
    return;
  }
  int err = static_cast<int>(-result);
  if (IsEmptyQueue(err) || err == ENOBUFS || err == ENOMEM || err == EINVAL || err == EMSGSIZE) {
    txDropped_++;
    return;
  }
  if (outcome.err == 0) {
    outcome.err = err;
    outcome.failedAt = i;
  }
}

// kDepth frames per io_uring_enter. Returns the first frame left to write(): count when none.
// The frames of the enter in which one fails hard were all attempted (a device that is gone
// fails them alike); later enters are not made.
size_t TunBatches::WriteRing(size_t count, WriteOutcome& outcome) {
  for (size_t start = 0; start < count; start += TunRing::kDepth) {
    size_t n = std::min(count - start, static_cast<size_t>(TunRing::kDepth));
    int rc = ring_.Write(tx_.slab, tx_.offsets + start, tx_.lengths + start, n, results_);
    for (size_t i = 0; i < n; i++) {
      int32_t result = results_[i];
      // Not submitted (the enter failed) or interrupted: write() it in its place.
      if (result == INT_MIN || result == -EINTR) {
        if (outcome.err == 0) Account(WriteOne(start + i), start + i, outcome);
      } else {
        Account(result, start + i, outcome);
      }
    }
    if (rc < 0) {
      ring_.Close();  // io_uring_enter itself failed: syscalls from now on
      return outcome.err != 0 ? count : start + n;
    }
    if (outcome.err != 0) return count;
  }
  return count;
}

}  // namespace syndrop
