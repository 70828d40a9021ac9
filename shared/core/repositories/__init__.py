"""Data access: pynamodb models of the single table stay behind these repositories."""
