-- A semicolon inside a string; must survive embedding.
ALTER TABLE accounts ADD COLUMN note text NOT NULL DEFAULT 'a;b';
