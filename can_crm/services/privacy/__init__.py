"""Data protection: subject access, erasure, retention, audit of reads, consent, Art. 22 reviews."""
