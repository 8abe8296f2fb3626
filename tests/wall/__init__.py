"""The bad-input wall (issue 23, item 7): every form field, URL parameter, header, cookie and
token fed oversized, invisible, bidi, combining, look-alike, markup, SQL, formula and
header-injection payloads, on SQLite and PostgreSQL. Each answer is a clear 4xx with nothing
written, or the input stored as the rules say and printed as text in pages, mails and every
export format; never a 500.

One module per surface; payloads.py holds the lists and the Hypothesis strategies (few
examples, derandomized: CI replays the same inputs). `WALL_EXAMPLES=1000 pytest tests/wall`
explores further by hand.
"""
