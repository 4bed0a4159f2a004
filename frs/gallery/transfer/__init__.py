"""Moving and backing up galleries: the export file format, export/import, copy between backends, restore."""
