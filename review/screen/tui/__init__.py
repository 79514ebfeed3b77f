"""The Textual screening app. The only package in ``review`` that imports textual."""
