"""Neuron-to-Graph (Foote et al. 2023): neuron tries, their saved JSON, and prediction."""

from .trie import NeuronGraph, TrieNode

__all__ = ["NeuronGraph", "TrieNode"]
