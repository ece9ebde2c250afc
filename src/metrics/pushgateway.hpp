// Pushing a registry to a Prometheus Pushgateway: PUT /metrics/job/<job>{/<label>/<value>}.
#pragma once

#include <chrono>
#include <string>

#include "http/http.hpp"
#include "nexdb/metrics.hpp"

namespace nexdb::metrics::detail {

/// The grouping-key path; values with '/' (or empty) use the @base64 form.
std::string pushgateway_path(std::string_view job, const Labels& grouping);

/// PUTs `body` (text format) to the group. ConnectionError on failure.
void push_to_gateway(const http::Url& gateway, std::string_view job, const Labels& grouping,
                     const std::string& body, std::chrono::milliseconds timeout);

}  // namespace nexdb::metrics::detail
