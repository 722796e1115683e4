"""A tiny app whose models and signals the probe tests dispatch through."""
