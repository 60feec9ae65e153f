"""One module of routes per resource: jobs, uploads (tus), operations."""
