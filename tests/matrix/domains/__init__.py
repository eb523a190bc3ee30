"""One module per domain, each defining `TABLE = DomainTable(...)` (see
`tests/matrix/tables.py`): the rows the route matrices need about that domain's routes.

`tests/matrix/core.py` imports every module here, in name order, and merges their tables
(failing when two domains claim the same row), so a new domain adds one module here and
nothing else.
"""
