"""Search: the query worked out once, the retriever, time expressions, recency, translation."""
