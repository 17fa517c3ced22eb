"""Serving the atlas to many: `make serve`'s supervisor and nginx template, the image and Kubernetes files."""
