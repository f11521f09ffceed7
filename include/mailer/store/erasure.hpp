#pragma once
// Right to erasure: removing every trace of one address from the database
// file (docs/API.md "Erasing an address"), keeping its suppression, plain or
// as a one-way hash, when it was suppressed.
//
// What goes, for the suppression key K of the address:
//   messages            every message to K (its `email`, or one of its to, cc
//                       or bcc, or one of the recipients dropped as
//                       suppressed), deleted with its content; queued and
//                       scheduled ones are cancelled first, so their batch's
//                       counts move as a cancel moves them and the batch can
//                       complete. A message being sent (state `sending`) makes
//                       the whole erasure fail with `conflict`, changing
//                       nothing: it finishes within seconds, then erase again.
//   events              every event naming K and every event of an erased
//                       message, deleted; the one with the highest id is
//                       emptied instead (email '', detail {}), since SQLite
//                       would give its id again and webhook cursors would skip
//                       the new event.
//   idempotency_keys    stored replies naming K: the body becomes
//                       {"erased":true}; the row stays, so a retried request
//                       is still answered from it and never sends again.
//   webhook_deliveries  delivered and failed ones naming K deleted with their
//                       attempts; a pending one keeps its other events and
//                       loses those naming K (deleted when none are left);
//                       attempt responses naming K emptied.
//   batch_links         clicked links containing K (plain or with %40 for @),
//                       deleted: a link that carries an address is that
//                       reader's own.
//   suppressions        kept as they are, or with Hashing::hash replaced by the
//                       hashed key (suppression::hashed_key_of), reason and
//                       scope kept, detail dropped.
// Aggregates (batch_counts, event_counts_hourly, the batches' accepted and
// suppressed counts) stay: they hold no address, and a batch's figures stay
// what they were. An audit row (table `erasures`) records the hash, the actor
// and the counts, never the address.
//
// How it runs: one read transaction finds the rows that need a scan (messages
// by destination, idempotency replies, webhook bodies, links), which blocks no
// writer; one IMMEDIATE transaction then checks them again, takes the rows
// written since (messages with a higher rowid), and changes everything, with
// `PRAGMA secure_delete = ON` on this connection only, so every freed cell and
// page holding the address is overwritten with zeros rather than left in the
// free space; the pragma is restored afterwards. Last, a TRUNCATE checkpoint
// copies the zeroed pages into the database file and empties the WAL, where
// older copies of the pages still were.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "mailer/core/clock.hpp"
#include "mailer/core/error.hpp"
#include "mailer/store/database.hpp"

namespace mailer::store {

/// What happens to the suppression of an erased address.
enum class SuppressionHashing {
  keep,  // the row stays as it is: the address stays on the list in clear
  hash,  // the row is replaced by its hashed key: the address is still blocked
};

/// Rows changed per kind by one erasure.
struct ErasureCounts {
  std::int64_t messages = 0;            // deleted
  std::int64_t cancelled = 0;           // of those, queued or scheduled (cancelled first)
  std::int64_t events = 0;              // deleted or emptied
  std::int64_t idempotency_keys = 0;    // replies replaced
  std::int64_t webhook_deliveries = 0;  // deleted or rewritten
  std::int64_t webhook_attempts = 0;    // responses emptied (besides those deleted with a delivery)
  std::int64_t batch_links = 0;         // deleted
};

/// Each count with its name ("messages", "cancelled", "events",
/// "idempotency_keys", "webhook_deliveries", "webhook_attempts",
/// "batch_links"), in that order: the one spelling of the audit row, the API
/// answer and mailerctl's output.
std::vector<std::pair<const char*, std::int64_t>> named_counts(const ErasureCounts& counts);

/// What the suppression list holds for the address after the erasure.
enum class SuppressionOutcome { none, kept, hashed };
const char* to_string(SuppressionOutcome outcome);

struct ErasureResult {
  ErasureCounts counts;
  SuppressionOutcome suppression = SuppressionOutcome::none;
  std::string address_hash;  // "sha256:<64 hex>", as in the audit row and a hashed suppression
  /// Whether the closing TRUNCATE checkpoint emptied the WAL. False when a
  /// reader (a running mailerd's, an open backup) kept it from finishing in
  /// the busy timeout: the erased rows are gone, but older copies of their
  /// pages stay in the WAL file until mailerd's next checkpoints overwrite it.
  bool wal_checkpointed = false;
};

class ErasureRepo {
 public:
  ErasureRepo(Database& db, const Clock& clock) : m_db(db), m_clock(clock) {}

  /// Erases `key` (a suppression key: the normalized address, ASCII lower
  /// case) as the file comment says, recording `actor` ("mailerctl" or a key
  /// id) in the audit row. An address nothing is stored about still succeeds,
  /// with zero counts (and an audit row). Errors: conflict "N message(s) to
  /// this address are being sent (state sending); erase again once they
  /// finish", nothing changed; storage_unavailable (busy past the timeout,
  /// disk full), nothing changed.
  Result<ErasureResult> erase(const std::string& key, SuppressionHashing hashing, const std::string& actor);

 private:
  Database& m_db;
  const Clock& m_clock;
};

}  // namespace mailer::store
