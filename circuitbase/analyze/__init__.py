"""Analyses that run on a model with TransformerLens (the optional `[analysis]` extra).

Each analysis produces the same records an adapter produces from a file, so its
results go through the same planner and writer, with an Analysis node that
records the method and its parameters.
"""
