"""Board report: self-contained HTML with charts rendered to inline images (no network)."""
