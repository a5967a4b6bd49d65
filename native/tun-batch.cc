// TunBatches (tun-batch.h): a batch is a loop of read()s or write()s, with one set of rules for
// what a frame's result means.

#include "tun-batch.h"

#include <errno.h>
#include <unistd.h>

namespace syndrop {

namespace {

bool IsEmptyQueue(int err) { return err == EAGAIN || err == EWOULDBLOCK; }

}  // namespace

void TunBatches::Attach(int fd) {
  Detach();
  fd_ = fd;
}

void TunBatches::Detach() {
  fd_ = -1;
  rx_ = RxSlots();
  tx_ = TxFrames();
}

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
  for (size_t i = 0; i < count && outcome.err == 0; i++) Account(WriteOne(i), i, outcome);
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

}  // namespace syndrop
