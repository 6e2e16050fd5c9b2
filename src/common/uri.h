// Parsing of the storage URIs txflow accepts. A plain path (no "scheme://") is
// a local path. The result is syntax only; whether the location exists is the
// backend's business.
#ifndef TXFLOW_COMMON_URI_H_
#define TXFLOW_COMMON_URI_H_

#include <string>
#include <string_view>

#include "txflow/status.h"

namespace txflow {

struct Uri {
  std::string scheme;     // "file", "mem" or "s3" (lower case)
  std::string authority;  // bucket or store name; empty for file
  std::string path;       // file: the local path; others: the key prefix, no
                          // leading or trailing '/'
};

// InvalidArgument naming the URI for: empty input, an unknown scheme, a missing
// bucket/store name, or "file://" with a host.
Result<Uri> ParseUri(std::string_view text);

}  // namespace txflow

#endif  // TXFLOW_COMMON_URI_H_
