-- SQLite has DROP COLUMN since 3.35 (Debian 12 ships 3.40).
ALTER TABLE users DROP COLUMN status;
