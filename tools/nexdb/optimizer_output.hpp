// How plans, findings and index suggestions look in the nexdb command and its demo: text lines
// for people, JSON for scripts.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "nexdb/optimizer.hpp"
#include "terminal.hpp"

namespace nexdb::cli {

using OrderedJson = nlohmann::ordered_json;

OrderedJson plan_json(const Plan& plan);
OrderedJson findings_json(const std::vector<PlanFinding>& findings);
OrderedJson suggestion_json(const IndexSuggestion& suggestion);

/// "orders (user_id, created_at): cost 425.97 -> 70.19 (84% less, planner cost), 1 query"
std::string suggestion_line(const IndexSuggestion& suggestion);
/// The plan's lines, each prefixed by `indent`.
std::string indented(const std::string& text, const std::string& indent);

/// Values given on the command line: integers become integers, anything else text.
std::vector<Value> parse_params(const std::vector<std::string>& texts);

}  // namespace nexdb::cli
