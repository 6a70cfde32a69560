"""Ingest: file readers, chunking, feeds (list, polling, state), pages, the net guard, the indexer."""
