"""What an operator edits: the settings schema, loaders and example files."""
