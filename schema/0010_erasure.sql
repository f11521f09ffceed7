-- Right to erasure (docs/API.md "Erasing an address"): removing every trace of
-- one address, optionally keeping its suppression as a one-way hash.
--
-- A hashed suppression is an ordinary suppressions row whose email is
-- "sha256:" and 64 hex digits: SHA-256 of this database's salt followed by
-- the address's suppression key. The suppression check looks up the plain key
-- and the hashed one in the same primary-key probe. The salt is
-- random per database (SQLite's randomblob, seeded from the operating
-- system's randomness), so the hash of an address cannot be looked up in a
-- table made for another database; it is never changed once written, or
-- every hashed suppression would stop matching.
CREATE TABLE erasure_salt (
  id    INTEGER PRIMARY KEY CHECK (id = 1),
  salt  BLOB NOT NULL
) STRICT;
INSERT INTO erasure_salt(id, salt) VALUES (1, randomblob(32));

-- The audit log of erasures: who erased what and when, never the address
-- itself, only its hash (as above), so a later request about the same
-- address can be matched to this entry by whoever knows the address.
CREATE TABLE erasures (
  id             INTEGER PRIMARY KEY,
  address_hash   TEXT NOT NULL,              -- "sha256:<64 hex>"
  actor          TEXT NOT NULL,              -- 'mailerctl' or the acting API key id
  counts_json    TEXT NOT NULL DEFAULT '{}', -- what was removed, per kind
  at_ms          INTEGER NOT NULL
) STRICT;
CREATE INDEX erasures_by_hash ON erasures(address_hash);
