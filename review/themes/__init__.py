"""Themes and regions: which challenges appear where and when.

A pipeline of small steps, each swappable (after BERTopic): ``embed`` (sentence-transformers
vectors cached in the workspace by content hash and model) → ``cluster`` (PCA + hdbscan, seeded,
outliers reassigned when close enough) → ``label`` (class-based TF-IDF keywords, representative
titles, protocol seed themes matched by similarity) → ``regions`` (study-location countries from a
gazetteer, kept apart from author-affiliation countries) → ``trends`` (region × theme × year) →
``report`` (CSV, PNG, HTML). ``run`` ties them together and logs every run in ``theme_runs``.
"""
