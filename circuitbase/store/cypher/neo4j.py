"""Neo4j only: ending the transactions a Ctrl-C leaves running."""

from __future__ import annotations

# Neo4j: end the transactions whose metadata tags them (Ctrl-C on a running query).
TAGGED_TRANSACTIONS = (
    "SHOW TRANSACTIONS YIELD transactionId, metaData "
    "WHERE metaData[$key] = $tag RETURN transactionId"
)
TERMINATE_TRANSACTIONS = "TERMINATE TRANSACTIONS $ids"
