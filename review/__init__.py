"""review: local-first systematic reviews of academic and gray literature."""

__version__ = "0.1.0"
