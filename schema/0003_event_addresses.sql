-- Events store an address in one spelling, the one the suppression list uses:
-- the normalized address in ASCII lower case. Older rows kept the case of the
-- message's local part (SENT, DEFERRED, FAILED, SUPPRESSED events); lower them
-- so one lookup finds every event of an address. Local parts are ASCII and
-- domains punycode, so SQLite's ASCII-only lower() is exactly that spelling.
UPDATE events SET email = lower(email) WHERE email <> lower(email);
