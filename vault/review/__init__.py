"""Review of what detection found: flags, the reviewer's decisions and redaction."""
