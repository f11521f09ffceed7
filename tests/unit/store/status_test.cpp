#include <catch2/catch.hpp>

#include "mailer/store/status.hpp"

using namespace mailer::store;

TEST_CASE("to_string and parse round-trip every state and status", "[store]") {
  SECTION("message states") {
    REQUIRE(message_state_names().size() == 7);
    for (const auto& name : message_state_names()) {
      auto state = parse_message_state(name);
      REQUIRE(state);
      CHECK(to_string(*state) == name);
    }
  }
  SECTION("batch statuses") {
    REQUIRE(batch_status_names().size() == 6);
    for (const auto& name : batch_status_names()) {
      auto status = parse_batch_status(name);
      REQUIRE(status);
      CHECK(to_string(*status) == name);
    }
  }
}

TEST_CASE("parse refuses unknown text instead of defaulting", "[store]") {
  for (const char* text : {"", "Queued", "queued ", "done", "paused\n"}) {
    INFO(text);
    CHECK_FALSE(parse_message_state(text));
    CHECK_FALSE(parse_batch_status(text));
  }
  CHECK_FALSE(parse_message_state("paused"));  // a batch status, not a message state
  CHECK_FALSE(parse_batch_status("sent"));     // a message state, not a batch status
}

TEST_CASE("batch_status derives a batch's status from its counts", "[store]") {
  SECTION("waiting messages only") {
    CHECK(batch_status(BatchStatus::queued, {{"queued", 2}}, 0) == BatchStatus::queued);
    CHECK(batch_status(BatchStatus::queued, {{"scheduled", 2}}, 0) == BatchStatus::scheduled);
    CHECK(batch_status(BatchStatus::sending, {{"queued", 2}}, 0) == BatchStatus::queued);
    CHECK(batch_status(BatchStatus::queued, {{"queued", 1}, {"scheduled", 1}}, 0) == BatchStatus::scheduled);
  }
  SECTION("suppressed at accept does not start a batch; at send time it does") {
    CHECK(batch_status(BatchStatus::queued, {{"queued", 2}, {"suppressed", 1}}, 1) == BatchStatus::queued);
    CHECK(batch_status(BatchStatus::queued, {{"queued", 2}, {"suppressed", 2}}, 1) == BatchStatus::sending);
  }
  SECTION("any message that left the queue starts it") {
    for (const char* state : {"sending", "sent", "failed", "cancelled"}) {
      INFO(state);
      CHECK(batch_status(BatchStatus::queued, {{"queued", 1}, {state, 1}}, 0) == BatchStatus::sending);
    }
  }
  SECTION("nothing waiting or in flight is completed, paused or not") {
    CHECK(batch_status(BatchStatus::sending, {{"sent", 3}}, 0) == BatchStatus::completed);
    CHECK(batch_status(BatchStatus::paused, {{"cancelled", 3}}, 0) == BatchStatus::completed);
    CHECK(batch_status(BatchStatus::queued, {{"suppressed", 3}}, 3) == BatchStatus::completed);
  }
  SECTION("paused and cancelled are kept") {
    CHECK(batch_status(BatchStatus::paused, {{"queued", 1}, {"sent", 1}}, 0) == BatchStatus::paused);
    CHECK(batch_status(BatchStatus::cancelled, {{"sending", 1}}, 0) == BatchStatus::cancelled);
    CHECK(batch_status(BatchStatus::cancelled, {{"sent", 1}}, 0) == BatchStatus::cancelled);
  }
}
