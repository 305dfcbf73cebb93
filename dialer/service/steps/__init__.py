"""Pieces several use cases share. Use-case modules never import each other (import-linter
checks it); what two of them need lives here."""
