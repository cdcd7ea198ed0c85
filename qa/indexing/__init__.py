"""Indexing: passages → vectors and BM25 arrays → a build on disk, switched atomically."""
