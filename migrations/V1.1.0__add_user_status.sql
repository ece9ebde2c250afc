-- Same SQL on both backends. Nullable with a default, so existing rows read 'active' and the
-- column can be dropped again on SQLite (DROP COLUMN refuses constrained columns).
ALTER TABLE users ADD COLUMN status TEXT DEFAULT 'active';
