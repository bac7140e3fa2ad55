ALTER TABLE widgets ADD COLUMN color TEXT NOT NULL DEFAULT 'blue';
INSERT INTO widgets (name) VALUES ('first');
