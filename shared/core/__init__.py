"""Shared domain code of the trading API: one copy, shipped to every function through the core layer."""
