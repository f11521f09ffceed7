-- SES list management of a batch (SendEmail's ListManagementOptions): the
-- SES contact list, and optionally its topic, that SES handles unsubscribes
-- for. Both NULL on batches without it and on rows stored before this
-- version; topic_name is only ever set together with contact_list_name.
--
--   contact_list_name  1-64 ASCII letters, digits, _ and -
--   topic_name         likewise
ALTER TABLE batches ADD COLUMN contact_list_name TEXT;
ALTER TABLE batches ADD COLUMN topic_name TEXT;
