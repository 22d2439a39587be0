-- Trigram indexes for substring search in session transcripts (trusted extension: no superuser needed).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
