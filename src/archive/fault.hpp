// Fault points: the moments where a crash leaves an archive job half done (a batch copied but
// not yet deleted, a file appended but not yet recorded). The crash tests' runner installs a
// hook that kills the process at a chosen point, so that every recovery path provably runs;
// without a hook (always, outside those tests) a fault point does nothing.
#pragma once

#include <string_view>

namespace nexdb::archive_detail {

/// Called with the point's name; may not return (the test runner raises SIGKILL).
using FaultHook = void (*)(std::string_view point);

/// Installs (or, with nullptr, removes) the hook. For tests only.
void set_fault_hook(FaultHook hook) noexcept;

/// Runs the hook, if any. Names: "destination-committed", "source-committed" (another
/// database); "file-appended", "file-recorded", "source-committed" (a file).
void fault_point(std::string_view point);

}  // namespace nexdb::archive_detail
