"""Answering: a question → hits from the live build → the answer sentence and its citations."""
