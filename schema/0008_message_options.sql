-- Transactional messages to several recipients (to, cc, bcc), with custom
-- headers and client metadata. Each column is NULL on rows stored before this
-- version and on bulk rows, which keep meaning what they meant: one
-- recipient, `email`, in To; no custom header; no metadata of their own.
--
--   destinations_json  {"to":[...],"cc":[...],"bcc":[...]}: the normalized
--                      addresses the message goes to, at most 50 in all (the
--                      SES limit), without those suppressed at acceptance.
--                      `email` stays the first of them (to, then cc, then bcc):
--                      the address mailerd's own events (SENT, DEFERRED,
--                      FAILED) name and the `email` template built-in.
--   suppressed_json    [{"email","field","reason"}]: addresses dropped at
--                      acceptance because a suppression of scope all blocked
--                      them; each also has a SUPPRESSED event.
--   headers_json       {"Name":"value"}: Content.Simple.Headers the client
--                      set, checked against SES's rules at acceptance.
--   metadata_json      {"key":"value"}: the client's own strings, never sent;
--                      shown on the message, its events and webhook payloads.
ALTER TABLE messages ADD COLUMN destinations_json TEXT;
ALTER TABLE messages ADD COLUMN suppressed_json TEXT;
ALTER TABLE messages ADD COLUMN headers_json TEXT;
ALTER TABLE messages ADD COLUMN metadata_json TEXT;
