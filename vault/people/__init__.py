"""People: the permission matrix, and the custody of keys granted to people."""
