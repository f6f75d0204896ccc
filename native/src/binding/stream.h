// The one CUDA stream every kernel, copy and memset of the addon runs on, and the sync-check switch.
//
// One non-blocking stream orders all work: a block freed by JS can be reused at once (any later use is ordered after
// the earlier work), and synchronize() waits for one event on it.
#pragma once

#if FPSATTN_WITH_CUDA
#include <cuda_runtime.h>

namespace fpsattn {

/// The addon's stream (created on first use, never destroyed: it lives as long as the process).
cudaStream_t stream();

/// When on (FPSATTN_SYNC_CHECK=1 or setSyncCheck(true)), each op synchronizes after its launches so that
/// asynchronous faults are reported by the call that caused them.
bool syncCheck();
void setSyncCheck(bool on);
/// Called by every op and memory function after it enqueued its work: synchronizes when the sync check is on.
void afterOp();

}  // namespace fpsattn
#endif
