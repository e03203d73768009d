"""Key custody on top of the age format: personal identities, grants, signing keys, the agent."""
