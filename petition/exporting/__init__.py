"""Exports: who goes under which heading (grouping), then one module per format."""
