// TunRing (tun-ring.h): the io_uring side of the TUN batches.

#include "tun-ring.h"

#include <errno.h>
#include <sys/uio.h>

#include <climits>

namespace syndrop {

namespace {

// user_data of the cancel request; frame requests carry their index in the batch.
constexpr uint64_t kCancelTag = ~0ULL;

}  // namespace

int TunRing::Open(int fd) {
  Close();
  // SINGLE_ISSUER + DEFER_TASKRUN (6.1): only the JS thread submits, and completions that are
  // not inline (none are expected) run when it asks for them instead of interrupting it.
  // SUBMIT_ALL (5.18): one request failing to prepare does not stop the rest of the batch.
  // A kernel that does not know a flag refuses it with EINVAL: retry without them.
  int rc = io_uring_queue_init(kDepth, &ring_,
                               IORING_SETUP_SUBMIT_ALL | IORING_SETUP_SINGLE_ISSUER |
                                   IORING_SETUP_DEFER_TASKRUN);
  if (rc == -EINVAL) rc = io_uring_queue_init(kDepth, &ring_, 0);
  if (rc < 0) return rc;
  rc = io_uring_register_files(&ring_, &fd, 1);
  if (rc == 0) rc = io_uring_register_buffers_sparse(&ring_, 1);
  if (rc < 0) {
    io_uring_queue_exit(&ring_);
    return rc;
  }
  // Optional (5.18): io_uring_enter then finds the ring without an fd lookup.
  io_uring_register_ring_fd(&ring_);
  open_ = true;
  return 0;
}

void TunRing::Close() {
  if (!open_) return;
  io_uring_unregister_files(&ring_);
  io_uring_unregister_buffers(&ring_);
  io_uring_queue_exit(&ring_);
  open_ = false;
}

int TunRing::RegisterTxSlab(const uint8_t* data, size_t bytes) {
  // An empty slab clears the slot (a sparse entry is {NULL, 0}).
  iovec iov{bytes == 0 ? nullptr : const_cast<uint8_t*>(data), bytes};
  __u64 tag = 0;
  int rc = io_uring_register_buffers_update_tag(&ring_, 0, &iov, &tag, 1);
  return rc < 0 ? rc : 0;
}

int TunRing::Write(const uint8_t* slab, const int32_t* offsets, const int32_t* lengths,
                   size_t count, int32_t* results) {
  for (size_t i = 0; i < count; i++) {
    // Never null: count <= kDepth and every earlier batch was reaped whole.
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    io_uring_prep_write_fixed(sqe, 0, slab + offsets[i], static_cast<unsigned>(lengths[i]), 0, 0);
    sqe->flags |= IOSQE_FIXED_FILE;
    // The TUN file supports non-blocking attempts (FMODE_NOWAIT), so without RWF_NOWAIT a write
    // the kernel would refuse with EAGAIN is parked (a poll armed) instead of failing at once.
    sqe->rw_flags = RWF_NOWAIT;
    sqe->user_data = i;
  }
  return Complete(static_cast<unsigned>(count), results);
}

// Submits the queued requests and reaps every one of them, so no slab slot is still in the
// kernel's hands when JS runs again. A request not submitted or not reaped (io_uring_enter
// failed: the status is negative and the caller must close the ring) keeps INT_MIN.
int TunRing::Complete(unsigned queued, int32_t* results) {
  for (unsigned i = 0; i < queued; i++) results[i] = INT_MIN;
  int status = 0;
  unsigned submitted = 0;
  while (submitted < queued) {
    int rc = io_uring_submit(&ring_);
    if (rc == -EINTR) continue;
    if (rc <= 0) {
      status = rc < 0 ? rc : -EIO;
      break;
    }
    submitted += static_cast<unsigned>(rc);
  }

  unsigned reaped = 0;
  bool cancelling = false;
  for (;;) {
    unsigned head, seen = 0;
    io_uring_cqe* cqe;
    io_uring_for_each_cqe(&ring_, head, cqe) {
      seen++;
      if (cqe->user_data >= submitted) continue;  // the cancel's own completion
      // A request we cancelled would have had to wait: for the caller that is EAGAIN.
      results[cqe->user_data] = cqe->res == -ECANCELED ? -EAGAIN : cqe->res;
      reaped++;
    }
    io_uring_cq_advance(&ring_, seen);
    if (reaped == submitted) return status;
    // Not every request completed inside the enter. Not expected with RWF_NOWAIT on this fd;
    // should a kernel still park one (a poll, an io-wq worker), cancel it and wait it out.
    if (!cancelling) {
      io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
      if (sqe != nullptr) {
        io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY);
        sqe->user_data = kCancelTag;
        io_uring_submit(&ring_);
      }
      cancelling = true;
    }
    int rc = io_uring_wait_cqe(&ring_, &cqe);
    if (rc < 0 && rc != -EINTR && rc != -EAGAIN) return rc;  // the caller closes the ring
  }
}

}  // namespace syndrop
