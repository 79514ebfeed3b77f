"""Sharing between research groups: corpus bundles (bundle.py) and dual screening (agreement.py)."""
