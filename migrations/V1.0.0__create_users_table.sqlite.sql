-- The seed's users: one row per account, email unique.
-- INTEGER PRIMARY KEY is SQLite's rowid: 64-bit and assigned on insert, like an identity column.
CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  email VARCHAR(255) NOT NULL UNIQUE,
  created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
