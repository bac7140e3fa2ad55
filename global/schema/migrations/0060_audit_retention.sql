-- The audit log is pruned by age (global/audit.RunRetention): the oldest
-- rows are found by this index, not by a scan.
CREATE INDEX IF NOT EXISTS audit_log_at_idx ON audit_log (at);
