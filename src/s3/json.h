// Just enough JSON for the credential sources' answers (IMDS, the container
// endpoint, credential_process): one flat object whose values are strings,
// numbers, true, false or null. Strict: anything else (a nested object or
// array, trailing text, a bad escape, a duplicate key) is an error, since a
// credentials answer that does not parse must not be half-used.
// Stateless; safe from any thread.
#ifndef TXFLOW_S3_JSON_H_
#define TXFLOW_S3_JSON_H_

#include <map>
#include <string>
#include <string_view>

#include "txflow/status.h"

namespace txflow::s3 {

// Member name -> value: strings decoded, numbers and literals as written
// ("1", "true", "null"). InvalidArgument names the byte offset at fault but
// never quotes the text (it may hold a secret).
Result<std::map<std::string, std::string>> ParseFlatJsonObject(
    std::string_view text);

}  // namespace txflow::s3

#endif  // TXFLOW_S3_JSON_H_
