// Everything nexdb offers, in one include.
#pragma once

#include "nexdb/config.hpp"
#include "nexdb/connection.hpp"
#include "nexdb/database.hpp"
#include "nexdb/error.hpp"
#include "nexdb/global_id.hpp"
#include "nexdb/identifier.hpp"
#include "nexdb/index.hpp"
#include "nexdb/optimizer.hpp"
#include "nexdb/pool.hpp"
#include "nexdb/query.hpp"
#include "nexdb/replica.hpp"
#include "nexdb/rows.hpp"
#include "nexdb/shard.hpp"
#include "nexdb/shard_key.hpp"
#include "nexdb/transaction.hpp"
#include "nexdb/value.hpp"
