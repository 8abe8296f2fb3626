"""Abuse: hard and soft limits on submissions, what review needs kept for hours (keyed hashes,
never addresses), trends mailed to organisers, allow and block lists, and bulk invalidation
as recorded, reversible jobs. Silent to attackers: a flagged or blocked sender sees what
anyone sees."""
