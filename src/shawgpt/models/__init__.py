"""Models: embedders and generators behind their narrow batch-first contracts, and their loading.

Imports only config and errors (never index, retrieval, safety, reply or anything above).
"""
